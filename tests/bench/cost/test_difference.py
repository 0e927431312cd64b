"""Steady state by difference (pure)."""

import pytest

from bench.cost.difference import Sample, figures, per_unit, setup_agents, spread
from bench.errors import BenchError


def sample(instructions, **counts):
    return Sample(instructions, {"agents": 100, "generations": 0, "messages": 0, **counts})


def test_per_unit_is_the_extra_instructions_over_the_extra_units():
    short = sample(1_000_000, generations=100, messages=50)
    long = sample(1_600_000, generations=300, messages=150)

    assert per_unit(short, long, "generations") == 3000.0
    assert per_unit(short, long, "messages") == 6000.0


def test_no_extra_units_is_refused_with_the_fix():
    short = sample(1_000_000, generations=100)
    with pytest.raises(BenchError, match="lengthen --duration"):
        per_unit(short, short, "generations")


def test_figures_take_the_set_up_runs_in_either_order():
    short = sample(1_000, generations=10, messages=5)
    long = sample(2_000, generations=20, messages=10)
    few = sample(500, agents=25)
    many = sample(875, agents=100)

    done = figures(short, long, few, many)

    assert (done.per_generation, done.per_message, done.per_agent_setup) == (100.0, 200.0, 5.0)
    assert figures(short, long, many, few) == done


def test_the_other_set_up_count_is_half_the_side_or_twice_it():
    assert setup_agents(100) == 25
    assert setup_agents(2500) == 625
    assert setup_agents(36) == 9
    assert setup_agents(25) == 100  # half of 5 is below 3
    assert setup_agents(9) == 36


def test_spread_is_the_range_over_the_median():
    assert spread([100.0, 100.0, 100.0]) == 0.0
    assert spread([99.0, 100.0, 101.0]) == pytest.approx(0.02)
