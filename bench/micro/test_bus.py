"""`MessageBus.publish`, the engine's event path: synchronous, so delivery is inside the call."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import cascade as cs

EVENT = cs.TaskExecutionFinished("run-1", "decide", 1, "succeeded", 0.001)


def _ignore(event: cs.Event) -> None:
    """A subscriber that does nothing, so only the bus's own cost is measured."""


@pytest.mark.benchmark(group="bus")
@pytest.mark.parametrize("subscribers", [0, 1], ids=["no-subscriber", "one-subscriber"])
def test_bus_publish(benchmark: BenchmarkFixture, subscribers: int) -> None:
    """One `publish` of a TaskExecutionFinished: a dict lookup, plus the handler call if any."""
    bus = cs.MessageBus()
    for _ in range(subscribers):
        bus.subscribe(cs.TaskExecutionFinished, _ignore)
    benchmark(bus.publish, EVENT)
