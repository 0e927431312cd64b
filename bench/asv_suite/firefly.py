"""asv benchmarks of the firefly workload, one parameter combination per (mode, agents).

Thin by design (STYLE lesson 10): `Firefly.setup_cache` runs every combination ONCE, each in
a fresh `python -m bench run` process, and the `track_*` methods only read numbers from that
cache; `AgentSetup` times and weighs setting up the agents in-process.

Nothing of the project is imported at module level. asv imports this module in the
environment of each commit it measures, whose `bench` is that commit's; the benchmarks must
be this tree's, the same for every commit, and a commit that lacks what a benchmark needs
fails only that benchmark. So the modes are read from this tree's bench/workload/modes.py
(the `@register`ed classes, parsed, not imported) and the tracks are made from this tree's
bench/metrics.py (loaded from its file: it imports nothing), one per metric that names its
asv benchmark (`Metric.asv`).

The instruction counts (`metrics.instructions`, bench/suite/instructions.py) are not the
timed run's: after every timed run, each combination of at most 400 agents is counted in a
virtual-clock run of its own under valgrind, two at a time. Without valgrind, or above 400
agents, their tracks are skipped (asv's n/a); a commit without the counts fails them.

BENCH_ASV_AGENTS="16,36" and BENCH_ASV_DURATION="1" (seconds) shrink the grid for quick
checks; the defaults take a few minutes per commit.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bench.metrics import Metric

HARNESS = Path(__file__).resolve().parents[1]
"""This tree's bench/, whose mode and metric tables the suite reads from their files."""


def registered_modes(source: Path = HARNESS / "workload" / "modes.py") -> tuple[str, ...]:
    """The `name` of each `@register`ed class of bench/workload/modes.py, in its order."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return tuple(
        _declared_name(node)
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list)
    )


def _declared_name(mode: ast.ClassDef) -> str:
    for statement in mode.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "name" for target in statement.targets
        ):
            return str(ast.literal_eval(statement.value))
    raise ValueError(f"mode class {mode.name} declares no name")


def _load_metrics(source: Path = HARNESS / "metrics.py") -> ModuleType:
    """This tree's bench/metrics.py as a module of its own (it imports nothing of bench)."""
    spec = importlib.util.spec_from_file_location("_asv_bench_metrics", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks a class's module up while building it
    spec.loader.exec_module(module)
    return module


_METRICS = _load_metrics()
MODES = registered_modes()
DEFAULT_AGENTS = (100, 400, 900)
DEFAULT_DURATION = 10.0

TRACKED: tuple[str, ...] = tuple(metric.path for metric in _METRICS.asv_tracked())
"""The `bench.metrics` paths kept from each run; the only numbers the tracks read."""
COUNTED: tuple[str, ...] = tuple(path for path in TRACKED if path.startswith("instructions."))
"""The tracked paths of the instruction counts (`metrics.instructions`), not of the timed run."""
COUNT_TIMEOUT_S = 120.0
"""The most one instruction count may take (about 10 s at 100 agents here)."""

Cache = dict[tuple[str, int], dict[str, Any]]
"""(mode, agents) → {metric path: value}, or {"error": why} for a combination whose timed
run failed; a COUNTED path not counted holds {"skip": why} (asv's n/a) or {"error": why}."""

_F = TypeVar("_F", bound=Callable[..., Any])


def agent_counts() -> list[int]:
    """The agent counts to measure: BENCH_ASV_AGENTS ("16,36") or the asv-sized defaults."""
    raw = os.environ.get("BENCH_ASV_AGENTS", "")
    try:
        counts = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"BENCH_ASV_AGENTS must look like '16,36', got {raw!r}") from None
    return counts or list(DEFAULT_AGENTS)


def run_duration() -> float:
    """Seconds each combination runs: BENCH_ASV_DURATION or the default."""
    raw = os.environ.get("BENCH_ASV_DURATION", "")
    try:
        return float(raw) if raw.strip() else DEFAULT_DURATION
    except ValueError:
        raise ValueError(f"BENCH_ASV_DURATION must be seconds, e.g. '1', got {raw!r}") from None


def worker_timeout(duration: float) -> float:
    """Seconds before a hung worker counts as failed: the run, set-up and a wide margin."""
    return 3 * duration + 120


AGENTS = agent_counts()
DURATION = run_duration()
PARAMS: list[list[Any]] = [list(MODES), AGENTS]
PARAM_NAMES = ["mode", "agents"]


def _asv(**attributes: Any) -> Callable[[_F], _F]:
    """Set asv attributes (unit, timeout) on a method; plain assignment would upset mypy."""

    def mark(method: _F) -> _F:
        vars(method).update(attributes)
        return method

    return mark


def measure(mode: str, agents: int, duration: float) -> dict[str, Any]:
    """One combination's tracked metrics from a fresh worker, or {"error": why} if it failed."""
    from bench.suite.worker import WorkerConfig, run_worker

    config = WorkerConfig(mode, agents, duration)
    with tempfile.TemporaryDirectory(prefix="bench-asv-") as folder:
        try:
            document = run_worker(config, Path(folder) / "result.json", worker_timeout(duration))
        except Exception as error:  # only this combination's tracks fail, not the class
            return {"error": f"{type(error).__name__}: {error}"}
    return tracked_metrics(document, tuple(p for p in TRACKED if p not in COUNTED))


def tracked_metrics(document: dict[str, Any], paths: tuple[str, ...] = TRACKED) -> dict[str, Any]:
    """The `paths` values of a result document, read through the `bench.metrics` table."""
    return {path: _METRICS.BY_PATH[path].value(document) for path in paths}


def count_instructions(combinations: list[tuple[str, int]]) -> Cache:
    """The COUNTED values of each (mode, agents), from the commit's bench (two valgrind runs
    at a time); {"skip": why} without valgrind or above the counts' size, {"error": why}
    for a count that failed, or for all when the commit has no counts."""
    try:
        from bench.cost.valgrind import find_valgrind, valgrind_version
        from bench.errors import BenchError
        from bench.suite import instructions
    except ImportError as error:  # a commit older than the counts fails them, as asv expects
        return _not_counted(combinations, error=f"{type(error).__name__}: {error}")
    try:
        valgrind = find_valgrind()
    except BenchError as error:
        return _not_counted(combinations, skip=str(error))
    larger = [c for c in combinations if instructions.instruction_agents(c[1]) != c[1]]
    cache = _not_counted(larger, skip=f"counted up to {instructions.MAX_AGENTS} agents")
    wanted = [c for c in combinations if c not in cache]
    try:
        children = [instructions.child_run(mode, agents) for mode, agents in wanted]
        found = instructions.measure_each(children, valgrind)
        version = valgrind_version(valgrind)
    except Exception as error:  # only the counts fail, not the timed tracks
        return {**cache, **_not_counted(wanted, error=f"{type(error).__name__}: {error}")}
    for key, counted in zip(wanted, found, strict=True):
        if counted.cost is None:
            cache |= _not_counted([key], error=str(counted.error))
        else:
            block = instructions.instructions_block(counted.cost, version)
            cache[key] = tracked_metrics({"metrics": {"instructions": block}}, COUNTED)
    return cache


def _not_counted(combinations: list[tuple[str, int]], **why: str) -> Cache:
    """Each combination's COUNTED paths holding why they have no value ({"skip": ...})."""
    return {key: {path: dict(why) for path in COUNTED} for key in combinations}


def read(cache: Cache, mode: str, agents: int, path: str) -> float:
    """A tracked value from the cache; raises (failing that one track, or skipping it: asv's
    n/a) when there is none."""
    entry = cache[(mode, agents)]
    value = entry.get(path)
    if isinstance(value, dict):  # an instruction count not made
        if "skip" in value:
            raise _skip(f"{path} of {mode} at {agents} agents: {value['skip']}")
        raise RuntimeError(f"the {mode} count at {agents} agents failed: {value['error']}")
    if "error" in entry and path not in COUNTED:
        raise RuntimeError(f"the {mode} run at {agents} agents failed: {entry['error']}")
    if value is None:
        raise ValueError(f"{path} was not measured in the {mode} run at {agents} agents")
    return float(value)


def _skip(why: str) -> NotImplementedError:
    """asv's "not available": its runner records n/a for a SkipNotImplemented (asv >= 0.6)."""
    try:
        from asv_runner.benchmarks.mark import SkipNotImplemented  # type: ignore[import-untyped]
    except ImportError:  # older asv skipped a plain NotImplementedError
        return NotImplementedError(why)
    return SkipNotImplemented(why)


class Firefly:
    """Loop lag, frame timing, memory, CPU and inbox misses of one run per (mode, agents).

    Its `track_*` methods, one per metric that names one (`Metric.asv`), follow the class.
    """

    params = PARAMS
    param_names = PARAM_NAMES

    @_asv(timeout=len(MODES) * len(AGENTS) * (worker_timeout(DURATION) + COUNT_TIMEOUT_S))
    def setup_cache(self) -> Cache:
        """Run every combination once (sizes outer, so drift hits every mode alike), then
        count their instructions: after the timed runs, never beside them."""
        combinations = [(m, n) for n in AGENTS for m in MODES]
        cache = {key: measure(*key, DURATION) for key in combinations}
        for key, counted in count_instructions(combinations).items():
            cache[key] = {**cache[key], **counted}
        return cache


def _track(name: str, metric: Metric) -> Callable[[Firefly, Cache, str, int], float]:
    """The asv benchmark `name` of one metric: its value in the (mode, agents) run."""
    path = metric.path

    def track(self: Firefly, cache: Cache, mode: str, agents: int) -> float:
        return read(cache, mode, agents, path)

    track.__name__, track.__qualname__ = name, f"Firefly.{name}"
    track.__doc__ = f"{metric.label[:1].upper()}{metric.label[1:]} ({metric.unit})."
    return _asv(unit=metric.unit)(track)


for _metric in _METRICS.asv_tracked():
    setattr(Firefly, _metric.asv, _track(_metric.asv, _metric))


def set_up_agents(mode: str, agents: int) -> list[Coroutine[Any, Any, Any]]:
    """Create a swarm and set up every agent for `mode`; returns their unstarted lives."""
    from bench.workload import Swarm, make_config, set_up_agents

    return set_up_agents(Swarm(make_config(agents=agents)), mode)


class AgentSetup:
    """What setting up the agents costs: time and peak memory, without running them."""

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, mode: str, agents: int) -> None:
        """Import the workload here so the timed call does not pay for the import."""
        importlib.import_module("bench.workload")
        self.lives: list[Coroutine[Any, Any, Any]] = []

    def teardown(self, mode: str, agents: int) -> None:
        """Close the never-started lives (no 'never awaited' warnings)."""
        for life in self.lives:
            life.close()
        self.lives.clear()

    def time_setup(self, mode: str, agents: int) -> None:
        """Create the swarm and set up every agent."""
        self.lives += set_up_agents(mode, agents)

    def peakmem_setup(self, mode: str, agents: int) -> None:
        """Peak RSS of the process after setting up every agent."""
        self.lives += set_up_agents(mode, agents)
