"""Engine micro-benchmarks: constructing one, and one tail-call generation on a shared one."""

from __future__ import annotations

import asyncio

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import cascade as cs
from bench.micro.batching import Measure
from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent

GENERATIONS = 200
"""Generations per measured call: enough that starting the run and the loop is noise."""


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
    """One run of 200 generations on a shared engine: graph, plan, flow, two tasks, a yield."""
    engine = cs.Engine()

    async def batch() -> None:
        assert await engine.run(cheap_decide(GENERATIONS, agent, config, cs.wait(0))) == 1

    measure(batch, GENERATIONS)


@pytest.mark.benchmark(group="generation")
def test_generation_floor(measure: Measure) -> None:
    """The same 200 steps as plain asyncio: the two loop yields a cheap generation contains."""

    async def batch() -> None:
        for _ in range(GENERATIONS):
            await asyncio.sleep(0)  # the cs.wait(0) action
            await asyncio.sleep(0)  # the engine's breather between generations

    measure(batch, GENERATIONS)
