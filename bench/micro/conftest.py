"""Fixtures of the micro-benchmarks: a real asyncio loop each, and batched async timing.

pytest-benchmark cannot await (its issue #66), so an async batch is driven with
`loop.run_until_complete`. A batch holds many operations, so that starting the loop and
the batch's task does not dominate; `extra_info["ops_per_call"]` records how many, and
the terminal summary divides each median by it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Generator, Iterator

import looptime
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from pytest_benchmark.session import PerformanceRegression

from bench.micro.batching import ALLOCATIONS, Measure, measure_batch
from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent, Tally

_PER_OP = pytest.StashKey[list[tuple[str, float, int]]]()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh loop per benchmark: the real asyncio one, never looptime's virtual clock."""
    loop = asyncio.new_event_loop()
    if isinstance(loop, looptime.LoopTimeEventLoop):
        pytest.fail("micro-benchmarks need the real asyncio loop, not looptime's")
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture
def measure(benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop) -> Measure:
    """Time `batch()` run to completion on the benchmark's loop; it performs `ops` operations."""
    return functools.partial(measure_batch, benchmark, loop)


@pytest.fixture(autouse=True)
def _per_op(request: pytest.FixtureRequest) -> Iterator[None]:
    """One operation per call unless `measure` says otherwise; note the median per operation.

    Only for tests that time something (the allocation counts use no benchmark fixture).
    """
    if "benchmark" not in request.fixturenames:
        yield
        return
    benchmark: BenchmarkFixture = request.getfixturevalue("benchmark")
    benchmark.extra_info["ops_per_call"] = 1
    yield
    if benchmark.stats:
        ops = benchmark.extra_info["ops_per_call"]
        median = benchmark.stats.stats.median / ops
        request.config.stash.setdefault(_PER_OP, []).append((benchmark.name, median, ops))


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> Generator[None, None, None]:
    """After pytest-benchmark's table: medians per operation; a regression exits, no traceback."""
    try:
        yield
    except PerformanceRegression:
        _show_per_op(terminalreporter, config)
        pytest.exit("a median regressed beyond --benchmark-compare-fail (listed above)", 1)
    _show_per_op(terminalreporter, config)


def _show_per_op(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    allocations = config.stash.get(ALLOCATIONS, [])
    if allocations:
        terminalreporter.section("allocations per step (memray: every malloc and pymalloc call)")
        for what, count in allocations:
            terminalreporter.write_line(f"{what:<12} {count:8.1f}")
    rows = config.stash.get(_PER_OP, [])
    if not rows:
        return
    terminalreporter.section("median per operation (median / ops_per_call)")
    width = max(len(name) for name, _, _ in rows)
    for name, median, ops in rows:
        terminalreporter.write_line(f"{name:<{width}}  {median * 1e6:10.3f} us  x{ops}")


@pytest.fixture
def config() -> FireflyConfig:
    """A 3x3 swarm: the smallest grid on which an agent has all 8 neighbours."""
    return FireflyConfig(agents=9)


@pytest.fixture
def agent(config: FireflyConfig) -> Agent:
    """The middle firefly of the 3x3 grid."""
    return Agent(4, config, Tally())
