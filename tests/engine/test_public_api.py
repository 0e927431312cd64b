"""The public namespace is pinned, and the package layers point one way."""

import ast
from pathlib import Path

import cascade as cs
import cascade.connectors as connectors

CASCADE = Path(cs.__file__).parent

PUBLIC = {
    "ArgumentResolver", "CapacityError", "CascadeError", "ConcurrencyHandler",
    "ConstraintManager", "ConstraintResolver", "DefinitionError", "Edge", "EdgeKind", "Engine",
    "EngineStatistics", "Event", "FlowManager", "GlobalConstraint", "Graph",
    "InMemoryStateBackend", "Inject", "Instrument", "LazyResult", "LocalExecutor",
    "MappedLazyResult", "MessageBus", "NativeSolver", "Node", "Param", "PauseHandler",
    "RateLimitHandler", "ResourceAcquired", "ResourceDefinition", "ResourceError",
    "ResourceManager", "ResourceNotFoundError", "ResourceReleased", "Router", "RoutingError",
    "RunFinished", "RunStarted", "StateBackend", "TargetSkippedError", "Task", "TaskBlocked",
    "TaskExecutionFinished", "TaskExecutionStarted", "TaskRetrying", "TaskSkipped",
    "add_instrument", "build_graph", "inject", "remove_instrument", "resource", "run", "task",
    "wait",
}  # fmt: skip

# The engine's core must not know about the pluggable parts (bus, resources, connectors).
CORE = ["graph/model.py", "graph/build.py", "runtime/solver.py", "runtime/executor.py",
        "runtime/flow.py", "runtime/state.py"]  # fmt: skip
PLUGGABLE = ("cascade.runtime.bus", "cascade.runtime.events", "cascade.runtime.resource",
             "cascade.runtime.constraints", "cascade.connectors")  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_public_names_are_pinned_and_resolve():
    assert set(cs.__all__) == PUBLIC
    assert all(getattr(cs, name) is not None for name in PUBLIC)


def test_connectors_namespace():
    assert {"LocalBroker", "LocalBusConnector", "DirectChannel", "Connector"} <= set(
        connectors.__all__
    )
    assert all(hasattr(connectors, name) for name in connectors.__all__)


def test_cascade_never_imports_bench():
    for path in CASCADE.rglob("*.py"):
        assert not [m for m in imported_modules(path) if m.split(".")[0] == "bench"], path


def test_core_modules_do_not_import_pluggable_parts():
    for relative in CORE:
        modules = imported_modules(CASCADE / relative)
        assert not [m for m in modules if m.startswith(PLUGGABLE)], relative
