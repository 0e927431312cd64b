"""Timing an async batch with pytest-benchmark, which cannot await (its issue #66)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

Batch = Callable[[], Coroutine[Any, Any, None]]
"""Makes the coroutine of one measured call: many operations, awaited to completion."""
Measure = Callable[[Batch, int], None]
"""`measure(batch, ops)`: the `measure` fixture, bound to a benchmark and its loop."""


ALLOCATIONS = pytest.StashKey[list[tuple[str, float]]]()
"""Allocation counts the session found: (what, allocations per step)."""


def record_allocations(request: pytest.FixtureRequest, what: str, per_step: float) -> None:
    """Keep an allocation count for the summary after pytest-benchmark's table."""
    request.config.stash.setdefault(ALLOCATIONS, []).append((what, per_step))


def measure_batch(
    benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop, batch: Batch, ops: int
) -> None:
    """Time `loop.run_until_complete(batch())`; record that one call performs `ops` operations."""
    benchmark.extra_info["ops_per_call"] = ops
    benchmark(lambda: loop.run_until_complete(batch()))
