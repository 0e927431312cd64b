"""Engine micro-benchmarks: constructing one, one tail-call generation on a shared one, and
starting (and ending) a run: what every agent pays at once when a swarm starts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import cascade as cs
from bench.micro.batching import Measure
from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent

GENERATIONS = 200
"""Generations per measured call: enough that starting the run and the loop is noise."""
RUNS = 200
"""Concurrent runs per measured call of the run-start benchmarks."""


@cs.task
def cheap_decide(remaining: int, agent: Agent, config: FireflyConfig, outcome: object) -> object:
    """Shaped like the workload's `decide` but as cheap as a step gets: a `cs.wait(0)` action."""
    if remaining <= 1:
        return remaining
    return cheap_decide(remaining - 1, agent, config, cs.wait(0))


@pytest.mark.benchmark(group="engine")
def test_engine_construction(benchmark: BenchmarkFixture) -> None:
    """`cs.Engine()` with defaults: what the per_agent mode pays once per agent."""
    benchmark(cs.Engine)


@pytest.mark.benchmark(group="generation")
def test_tail_call_generation(measure: Measure, agent: Agent, config: FireflyConfig) -> None:
    """One run of 200 generations on a shared engine: two task calls (a decision and a
    `cs.wait(0)`) per generation, the wait being its one loop yield."""
    engine = cs.Engine()

    async def batch() -> None:
        assert await engine.run(cheap_decide(GENERATIONS, agent, config, cs.wait(0))) == 1

    measure(batch, GENERATIONS)


@pytest.mark.benchmark(group="generation")
def test_generation_floor(measure: Measure) -> None:
    """The same 200 steps as plain asyncio: the one loop yield a cheap generation contains
    (the engine yields again only after a generation that never waited)."""

    async def batch() -> None:
        for _ in range(GENERATIONS):
            await asyncio.sleep(0)  # the cs.wait(0) action

    measure(batch, GENERATIONS)


def _box() -> Iterator[dict[str, int]]:
    yield {"uses": 0}


box = cs.resource(_box, name="micro_box", scope="run")
"""A run-scoped resource, as the firefly's connector is in the shared mode."""


@cs.task
async def use_box(agent: Agent, box: dict[str, int] = cs.inject("micro_box")) -> int:
    """The action: takes the run's resource and waits once (one loop yield)."""
    box["uses"] += 1
    await asyncio.sleep(0)
    return box["uses"]


@cs.task
def first_decide(agent: Agent, config: FireflyConfig) -> cs.LazyResult:
    """A first decision that only records the next generation, like the workload's START."""
    return last_decide(agent, config, use_box(agent))


@cs.task
def last_decide(agent: Agent, config: FireflyConfig, outcome: int) -> int:
    """Ends the run with the action's outcome."""
    return outcome


@pytest.mark.benchmark(group="run start")
def test_run_start(measure: Measure, agent: Agent, config: FireflyConfig) -> None:
    """200 concurrent short runs on a shared engine, per run: its set-up, a run-scoped
    resource, two generations (a decision, then an action and a decision), its teardown."""
    engine = cs.Engine()
    engine.register(box)

    async def batch() -> None:
        runs = (engine.run(first_decide(agent, config)) for _ in range(RUNS))
        assert await asyncio.gather(*runs) == [1] * RUNS

    measure(batch, RUNS)


@pytest.mark.benchmark(group="run start")
def test_run_start_floor(measure: Measure) -> None:
    """The same 200 lives as plain asyncio tasks: the resource's generator, one loop yield."""

    async def life() -> int:
        resource = _box()
        value = next(resource)
        value["uses"] += 1
        await asyncio.sleep(0)
        next(resource, None)
        return value["uses"]

    async def batch() -> None:
        assert await asyncio.gather(*(life() for _ in range(RUNS))) == [1] * RUNS

    measure(batch, RUNS)
