"""Instructions per generation beside the timed runs: `bench run --instructions`, the suite, asv.

One measurement is a small virtual-clock run of one mode under valgrind (bench/cost): a
warm-up of WARMUP_S seconds, then DURATION_S measured seconds, in a process of its own.
Callers make it before or after their timed runs, never beside them: valgrind keeps a core
busy. The block it gives is the result document's `metrics.instructions`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cost.measure import PARALLEL, Cost, measure_cost
from bench.cost.valgrind import HARNESS, ChildRun
from bench.errors import BenchError

WARMUP_S = 1.0
"""Seconds of the virtual clock run before counting: the swarm's first flashes settle."""
DURATION_S = 2.0
"""Seconds of the virtual clock counted (about 350 generations at 100 agents)."""
MAX_AGENTS = 400
"""The most agents a measurement sets up: the cost of a virtual second grows with them."""
SUITE_AGENTS = 100
"""The suite's size (and the gate's): about 9 s of valgrind per mode here, and per
generation within ~0.001% from run to run."""
TOP_FUNCTIONS = 10
"""C functions kept per measurement in the suite's record (by self instructions)."""


def instruction_agents(agents: int, cap: int = MAX_AGENTS) -> int:
    """The agents to measure for a run of `agents` (a square >= 9): as many, at most `cap`
    (rounded down to a square, never below 9)."""
    side = math.isqrt(min(agents, cap))
    return max(side, 3) ** 2


def child_run(mode: str, agents: int, seed: int = 1) -> ChildRun:
    """The measured child of one mode: WARMUP_S then DURATION_S seconds at `agents`."""
    return ChildRun(mode, agents, duration=DURATION_S, warmup=WARMUP_S, seed=seed)


@dataclass(frozen=True)
class Counted:
    """One measurement: its child, when it started, and its cost or why it failed."""

    child: ChildRun
    started_at: str
    cost: Cost | None = None
    error: str | None = None


def measure_each(children: Sequence[ChildRun], valgrind: str, cwd: Path = HARNESS) -> list[Counted]:
    """Measure each child, PARALLEL at a time, in order; a failure costs only its own figure.

    On Ctrl-C the measurements not yet started are dropped, not started after it.
    """
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    try:
        futures = [pool.submit(_count, child, valgrind, cwd) for child in children]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _count(child: ChildRun, valgrind: str, cwd: Path) -> Counted:
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        return Counted(child, started, cost=measure_cost(child, valgrind, cwd))
    except BenchError as error:
        return Counted(child, started, error=str(error))


def instructions_block(cost: Cost, version: str) -> dict[str, Any]:
    """The result document's `metrics.instructions`: the figures and what was measured."""
    figures, child = cost.figures, cost.child
    return {
        "per_generation": round(figures.per_generation, 1),
        "per_message": round(figures.per_message, 1),
        "per_agent_setup": round(figures.per_agent_setup, 1),
        "agents": child.agents,
        "warmup_s": child.warmup,
        "duration_s": child.duration,
        "valgrind": version,
    }


def suite_record(counted: Counted, version: str, commit: str | None) -> dict[str, Any]:
    """What the suite keeps of one measurement (runs/suite-*/instructions/<mode>-<agents>.json
    and its pyperf benchmark): `config`, and `metrics.instructions` as a result document has
    them (so `bench.metrics` reads it), or the error; the command and the top functions."""
    child = counted.child
    record: dict[str, Any] = {
        "config": {"mode": child.mode, "agents": child.agents, "seed": child.seed},
        "started_at": counted.started_at,
        "commit": commit,
    }
    if counted.cost is None:
        return {**record, "error": counted.error}
    functions = [
        {"name": f.name, "self_per_generation": round(f.self_per_generation, 1)}
        for f in counted.cost.functions[:TOP_FUNCTIONS]
    ]
    return {
        **record,
        "metrics": {"instructions": instructions_block(counted.cost, version)},
        "command": " ".join(counted.cost.command),
        "functions": functions,
    }


def describe(agents: int, warmup: float = WARMUP_S, duration: float = DURATION_S) -> str:
    """What one measurement runs, in words: "100 agents, 1 s of warm-up then 2 s counted,
    on the virtual clock"."""
    counted = f"{warmup:g} s of warm-up then {duration:g} s counted"
    return f"{agents:,} agents, {counted}, on the virtual clock"
