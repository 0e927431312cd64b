"""asv benchmarks of the firefly workload, one parameter combination per (mode, agents).

Thin by design (STYLE lesson 10): `Firefly.setup_cache` runs every combination ONCE, each in
a fresh `python -m bench run` process, and the `track_*` methods only read numbers from that
cache; `AgentSetup` times and weighs setting up the agents in-process. Nothing of the
project is imported at module level, so this module imports on any commit and a commit that
lacks what a benchmark needs fails only that benchmark.

BENCH_ASV_AGENTS="16,36" and BENCH_ASV_DURATION="1" (seconds) shrink the grid for quick
checks; the defaults take a few minutes per commit.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

MODES = ("per_agent", "shared", "bare", "raw")
DEFAULT_AGENTS = (100, 400, 900)
DEFAULT_DURATION = 10.0

TRACKED = (
    "loop_lag.p50_ms",
    "loop_lag.p99_ms",
    "loop_lag.max_ms",
    "frame.flush_p99_ms",
    "frame.jitter_p99_ms",
    "memory.rss_per_agent_bytes",
    "objects.objects_per_agent",
    "work.cpu_us_per_generation",
    "work.inbox_misses_per_flash",
    "work.inbox_misses",
)
"""The `bench.metrics` paths kept from each run; the only numbers the tracks read."""

Cache = dict[tuple[str, int], dict[str, Any]]
"""(mode, agents) → {metric path: value}, or {"error": why} for a combination that failed."""

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
    return tracked_metrics(document)


def tracked_metrics(document: dict[str, Any]) -> dict[str, Any]:
    """The TRACKED values of a result document, read through the `bench.metrics` table."""
    from bench.metrics import BY_PATH

    return {path: BY_PATH[path].value(document) for path in TRACKED}


def read(cache: Cache, mode: str, agents: int, path: str) -> float:
    """A tracked value from the cache; raises (failing that one track) when there is none."""
    entry = cache[(mode, agents)]
    if "error" in entry:
        raise RuntimeError(f"the {mode} run at {agents} agents failed: {entry['error']}")
    value = entry.get(path)
    if value is None:
        raise ValueError(f"{path} was not measured in the {mode} run at {agents} agents")
    return float(value)


class Firefly:
    """Loop lag, frame timing, memory, CPU and inbox misses of one run per (mode, agents)."""

    params = PARAMS
    param_names = PARAM_NAMES

    @_asv(timeout=len(MODES) * len(AGENTS) * worker_timeout(DURATION))
    def setup_cache(self) -> Cache:
        """Run every combination once (sizes outer, so drift hits every mode alike)."""
        return {(m, n): measure(m, n, DURATION) for n in AGENTS for m in MODES}

    @_asv(unit="ms")
    def track_loop_lag_p50(self, cache: Cache, mode: str, agents: int) -> float:
        """Event-loop lag, median."""
        return read(cache, mode, agents, "loop_lag.p50_ms")

    @_asv(unit="ms")
    def track_loop_lag_p99(self, cache: Cache, mode: str, agents: int) -> float:
        """Event-loop lag, 99th percentile."""
        return read(cache, mode, agents, "loop_lag.p99_ms")

    @_asv(unit="ms")
    def track_loop_lag_max(self, cache: Cache, mode: str, agents: int) -> float:
        """Event-loop lag, worst wake-up."""
        return read(cache, mode, agents, "loop_lag.max_ms")

    @_asv(unit="ms")
    def track_frame_flush_p99(self, cache: Cache, mode: str, agents: int) -> float:
        """Frame flush duration, 99th percentile."""
        return read(cache, mode, agents, "frame.flush_p99_ms")

    @_asv(unit="ms")
    def track_render_jitter_p99(self, cache: Cache, mode: str, agents: int) -> float:
        """How late frames end, 99th percentile."""
        return read(cache, mode, agents, "frame.jitter_p99_ms")

    @_asv(unit="bytes")
    def track_rss_per_agent(self, cache: Cache, mode: str, agents: int) -> float:
        """RSS grown by setting up the agents, per agent."""
        return read(cache, mode, agents, "memory.rss_per_agent_bytes")

    @_asv(unit="count")
    def track_objects_per_agent(self, cache: Cache, mode: str, agents: int) -> float:
        """gc-tracked objects added by setting up the agents, per agent."""
        return read(cache, mode, agents, "objects.objects_per_agent")

    @_asv(unit="us")
    def track_cpu_per_generation(self, cache: Cache, mode: str, agents: int) -> float:
        """Process CPU microseconds per agent step."""
        return read(cache, mode, agents, "work.cpu_us_per_generation")

    @_asv(unit="ratio")
    def track_inbox_misses_per_flash(self, cache: Cache, mode: str, agents: int) -> float:
        """Inbox messages nobody listened for, per flash."""
        return read(cache, mode, agents, "work.inbox_misses_per_flash")

    @_asv(unit="count")
    def track_inbox_misses(self, cache: Cache, mode: str, agents: int) -> float:
        """Inbox messages nobody listened for, in the whole run."""
        return read(cache, mode, agents, "work.inbox_misses")


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
