"""What the engine does per generation before any task runs, on one firefly step.

The step is a listening generation as the workflow builds it:
`decide(agent, config, Action.LISTEN, listen(agent.inbox, 1.0))`.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import cascade as cs
from bench.workload.config import FireflyConfig
from bench.workload.physics import Action, Agent
from bench.workload.workflow import decide, listen

pytestmark = pytest.mark.benchmark(group="graph")


@pytest.fixture
def step(agent: Agent, config: FireflyConfig) -> cs.LazyResult:
    """One listening generation of the firefly workflow."""
    return decide(agent, config, Action.LISTEN, listen(agent.inbox, 1.0))


def test_step_tree(benchmark: BenchmarkFixture, agent: Agent, config: FireflyConfig) -> None:
    """Recording the step's LazyResults: two task calls, each bound against its signature."""
    benchmark(lambda: decide(agent, config, Action.LISTEN, listen(agent.inbox, 1.0)))


def test_build_graph(benchmark: BenchmarkFixture, step: cs.LazyResult) -> None:
    """`cs.build_graph` of the step: two nodes, one data edge, one injected resource."""
    benchmark(cs.build_graph, step)


def test_solve(benchmark: BenchmarkFixture, step: cs.LazyResult) -> None:
    """`NativeSolver.resolve` of the step's graph into its stages."""
    benchmark(cs.NativeSolver().resolve, cs.build_graph(step))


def test_flow_manager(benchmark: BenchmarkFixture, step: cs.LazyResult) -> None:
    """`cs.FlowManager(graph)` for the step: the per-execution demand and router bookkeeping."""
    benchmark(cs.FlowManager, cs.build_graph(step))
