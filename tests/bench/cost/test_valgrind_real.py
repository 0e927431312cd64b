"""One small real measurement under callgrind (skips, with the install command, without it)."""

import shutil

import pytest

from bench.cost.measure import measure_costs
from bench.cost.segments import SEGMENTS
from bench.cost.valgrind import INSTALL_HINT, ChildRun

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason=f"valgrind is not installed: {INSTALL_HINT}"
)


def test_a_tiny_swarm_gives_one_profile_per_segment_and_repeats_exactly():
    child = ChildRun("raw", 9, duration=1.0, warmup=0.5)

    first, again = measure_costs([child, child])

    assert [segment.name for segment in first.segments] == list(SEGMENTS)
    measured = first.segments[-1]
    assert measured.counts["generations"] > 0
    assert first.figures.per_generation == measured.instructions / measured.counts["generations"]
    assert first.figures.per_agent_setup > 0
    assert sum(measured.profile.self_cost.values()) == measured.instructions
    assert [s.counts for s in first.segments] == [s.counts for s in again.segments]
    difference = abs(first.figures.per_generation - again.figures.per_generation)
    assert difference <= 0.001 * first.figures.per_generation
