"""The child's segments and their figures (pure)."""

import pytest

from bench.cost.callgrind import Profile
from bench.cost.segments import SEGMENTS, Segment, figures, pair_up, per_unit, setup_agents, spread
from bench.errors import BenchError


def segment(name, instructions, **counts):
    return Segment(name, counts, Profile(total=instructions))


def test_the_measured_segment_gives_per_generation_and_per_message():
    measured = segment("measured", 600_000, generations=200, messages=100)

    assert per_unit(measured, "generations") == 3000.0
    assert per_unit(measured, "messages") == 6000.0


def test_a_segment_that_did_nothing_is_refused_with_the_fix():
    with pytest.raises(BenchError, match="lengthen --duration"):
        per_unit(segment("measured", 1_000, generations=0), "generations")


def test_per_agent_set_up_is_the_difference_of_two_set_ups_in_either_order():
    run = [
        segment("set-up-other", 500, agents=25),
        segment("set-up", 875, agents=100),
        segment("measured", 1_000, generations=10, messages=5),
    ]
    done = figures(run)
    assert (done.per_generation, done.per_message, done.per_agent_setup) == (100.0, 200.0, 5.0)

    larger_other = [segment("set-up-other", 1_250, agents=250), *run[1:]]
    assert figures(larger_other).per_agent_setup == 2.5


def test_segments_pair_with_callgrind_parts_one_to_one():
    reported = [{"name": name} for name in SEGMENTS[:3]]
    profiles = [Profile(total=n) for n in (10, 20, 30)]

    paired = pair_up(reported, profiles)

    assert [(s.name, s.instructions) for s in paired] == list(
        zip(SEGMENTS[:3], (10, 20, 30), strict=True)
    )
    with pytest.raises(BenchError, match="something else called the marker"):
        pair_up(reported, profiles[:2])


def test_the_other_set_up_count_is_half_the_side_or_twice_it():
    assert setup_agents(100) == 25
    assert setup_agents(2500) == 625
    assert setup_agents(36) == 9
    assert setup_agents(25) == 100  # half of 5 is below 3
    assert setup_agents(9) == 36


def test_spread_is_the_range_over_the_median():
    assert spread([100.0, 100.0, 100.0]) == 0.0
    assert spread([99.0, 100.0, 101.0]) == pytest.approx(0.02)
