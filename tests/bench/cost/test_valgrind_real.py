"""One small real measurement under callgrind (skips, with the install command, without it)."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.cost.difference import per_unit
from bench.cost.valgrind import INSTALL_HINT, ChildRun, measure

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason=f"valgrind is not installed: {INSTALL_HINT}"
)


def test_a_tiny_swarm_costs_instructions_per_generation_and_repeats_exactly():
    short, long = ChildRun("raw", 9, 1.0), ChildRun("raw", 9, 2.0)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two valgrinds at a time at most
        first, second, again = pool.map(measure, [short, long, short])

    assert second.sample.counts["generations"] > first.sample.counts["generations"]
    assert per_unit(first.sample, second.sample, "generations") > 0
    assert first.sample.counts == again.sample.counts
    difference = abs(first.sample.instructions - again.sample.instructions)
    assert difference <= 0.005 * first.sample.instructions
    assert sum(first.profile.self_cost.values()) == first.profile.total
