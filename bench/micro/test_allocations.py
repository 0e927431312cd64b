"""Allocations per tail-call generation, counted by memray (every malloc and pymalloc call).

Not a timing: memray counts exactly how many allocations a generation makes, which is
what the engine's fast path drives down. Two runs of different lengths are subtracted,
so starting the loop and the run costs nothing. The counts are shown after the timings.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

import cascade as cs
from bench.micro.batching import record_allocations
from bench.micro.test_engine import cheap_decide
from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent

SHORT, LONG = 200, 1_200

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="memray has no Windows build")


def _allocations(make: Callable[[int], Coroutine[Any, Any, Any]], steps: int, out: Path) -> int:
    """Allocations made while running `make(steps)` to completion on a fresh asyncio loop."""
    import memray

    loop = asyncio.new_event_loop()
    try:
        with memray.Tracker(out, trace_python_allocators=True):
            loop.run_until_complete(make(steps))
    finally:
        loop.close()
    reader = memray.FileReader(out)
    try:
        return int(reader.metadata.total_allocations)
    finally:
        reader.close()


def _per_step(make: Callable[[int], Coroutine[Any, Any, Any]], tmp_path: Path) -> float:
    short = _allocations(make, SHORT, tmp_path / "short.bin")
    long = _allocations(make, LONG, tmp_path / "long.bin")
    return (long - short) / (LONG - SHORT)


def test_allocations_per_generation(
    request: pytest.FixtureRequest, tmp_path: Path, agent: Agent, config: FireflyConfig
) -> None:
    """One generation on a shared engine: graph or chain, two tasks, the breather."""
    engine = cs.Engine()

    async def run(steps: int) -> None:
        await engine.run(cheap_decide(steps, agent, config, cs.wait(0)))

    per_generation = _per_step(run, tmp_path)
    record_allocations(request, "generation", per_generation)
    assert per_generation > 0


def test_allocations_per_floor_step(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The same step as plain asyncio: the two loop yields of a cheap generation."""

    async def run(steps: int) -> None:
        for _ in range(steps):
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    per_step = _per_step(run, tmp_path)
    record_allocations(request, "floor", per_step)
    assert per_step >= 0
