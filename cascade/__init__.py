"""cascade: a small declarative asyncio workflow engine.

Tasks record calls as LazyResults; the engine builds a graph from them, solves it into
stages and executes it, following tail calls (a task returning a LazyResult) forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from cascade.errors import (
    CapacityError,
    CascadeError,
    DefinitionError,
    ResourceError,
    ResourceNotFoundError,
    RoutingError,
    TargetSkippedError,
)
from cascade.graph.build import build_graph
from cascade.graph.model import Edge, EdgeKind, Graph, Node
from cascade.runtime.bus import MessageBus
from cascade.runtime.constraints import (
    ConcurrencyHandler,
    ConstraintManager,
    GlobalConstraint,
    PauseHandler,
    RateLimitHandler,
)
from cascade.runtime.engine import Engine, EngineStatistics
from cascade.runtime.events import (
    Event,
    ResourceAcquired,
    ResourceReleased,
    RunFinished,
    RunStarted,
    TaskBlocked,
    TaskExecutionFinished,
    TaskExecutionStarted,
    TaskRetrying,
    TaskSkipped,
)
from cascade.runtime.executor import LocalExecutor
from cascade.runtime.flow import FlowManager
from cascade.runtime.instruments import Instrument, add_instrument, remove_instrument
from cascade.runtime.resolvers import ArgumentResolver, ConstraintResolver
from cascade.runtime.resource_manager import ResourceManager
from cascade.runtime.solver import NativeSolver
from cascade.runtime.state import InMemoryStateBackend, StateBackend
from cascade.spec.lazy import LazyResult, MappedLazyResult
from cascade.spec.param import Param
from cascade.spec.resource import Inject, ResourceDefinition, inject, resource
from cascade.spec.routing import Router
from cascade.spec.task import Task, task, wait


def run(
    target: LazyResult,
    params: Mapping[str, Any] | None = None,
    *,
    resources: Iterable[ResourceDefinition] = (),
    system_resources: Mapping[str, float] | None = None,
) -> Any:
    """Run `target` to completion on a fresh Engine in a new event loop and return its value."""
    engine = Engine(system_resources=system_resources)
    for definition in resources:
        engine.register(definition)
    return asyncio.run(engine.run(target, params))


__all__ = [
    "ArgumentResolver",
    "CapacityError",
    "CascadeError",
    "ConcurrencyHandler",
    "ConstraintManager",
    "ConstraintResolver",
    "DefinitionError",
    "Edge",
    "EdgeKind",
    "Engine",
    "EngineStatistics",
    "Event",
    "FlowManager",
    "GlobalConstraint",
    "Graph",
    "InMemoryStateBackend",
    "Inject",
    "Instrument",
    "LazyResult",
    "LocalExecutor",
    "MappedLazyResult",
    "MessageBus",
    "NativeSolver",
    "Node",
    "Param",
    "PauseHandler",
    "RateLimitHandler",
    "ResourceAcquired",
    "ResourceDefinition",
    "ResourceError",
    "ResourceManager",
    "ResourceNotFoundError",
    "ResourceReleased",
    "Router",
    "RoutingError",
    "RunFinished",
    "RunStarted",
    "StateBackend",
    "TargetSkippedError",
    "Task",
    "TaskBlocked",
    "TaskExecutionFinished",
    "TaskExecutionStarted",
    "TaskRetrying",
    "TaskSkipped",
    "add_instrument",
    "build_graph",
    "inject",
    "remove_instrument",
    "resource",
    "run",
    "task",
    "wait",
]
