"""head/base ratios and their confidence intervals, paired and unpaired."""

import math

import pytest

from bench.gate.change import Change, paired_change, unpaired_change

BASE = [100.0, 102.0, 98.0, 101.0, 99.0]
LOW_NOISE = [1.13, 1.17, 1.15, 1.14, 1.16]
HEAVY_NOISE = [0.8, 1.6, 1.0, 1.5, 0.9]


def scaled(values, factors):
    return [v * f for v, f in zip(values, factors, strict=True)]


def test_identical_pairs_give_a_point_interval_at_one():
    change = paired_change(BASE, list(BASE), 0.95)
    assert (change.ratio, change.low, change.high) == (1.0, 1.0, 1.0)
    assert change.samples == 5 and change.paired
    assert not change.above_one and not change.below_one
    assert change.spread == 0.0


def test_identical_noisy_samples_unpaired_give_an_interval_around_one():
    change = unpaired_change(BASE, list(BASE), 0.95)
    assert change.ratio == pytest.approx(1.0)
    assert change.low < 1.0 < change.high
    assert not change.paired
    assert not change.above_one and not change.below_one


@pytest.mark.parametrize("compare", [paired_change, unpaired_change])
def test_a_constant_slowdown_is_a_point_interval(compare):
    change = compare([100.0] * 5, [115.0] * 5, 0.95)
    assert change.ratio == pytest.approx(1.15, rel=1e-12)
    assert change.low == change.high == change.ratio
    assert change.above_one
    assert change.spread == 0.0


def test_a_constant_slowdown_over_varied_bases_is_a_point_interval():
    base = [100.0, 200.0, 300.0, 400.0, 500.0]
    change = paired_change(base, [115.0, 230.0, 345.0, 460.0, 575.0], 0.95)
    assert change.low == change.high


def test_a_low_noise_slowdown_is_significant():
    change = paired_change(BASE, scaled(BASE, LOW_NOISE), 0.95)
    assert change.ratio == pytest.approx(1.15, abs=0.002)
    assert 1.0 < change.low < change.ratio < change.high
    assert change.above_one and not change.below_one


def test_a_slowdown_inside_heavy_noise_is_not_significant():
    change = paired_change(BASE, scaled(BASE, HEAVY_NOISE), 0.95)
    assert change.ratio > 1.10
    assert change.low < 1.0 < change.high
    assert not change.above_one


def test_a_low_noise_speedup_is_below_one():
    change = paired_change(BASE, scaled(BASE, [0.85, 0.86, 0.84, 0.85, 0.86]), 0.95)
    assert change.below_one and not change.above_one


def test_unpaired_low_noise_slowdown_is_significant():
    change = unpaired_change(BASE, [115.0, 116.0, 114.0, 115.5, 114.5], 0.95)
    assert change.above_one
    assert change.samples == 5


def test_higher_confidence_gives_a_wider_interval():
    head = scaled(BASE, LOW_NOISE)
    narrow, wide = paired_change(BASE, head, 0.80), paired_change(BASE, head, 0.99)
    assert wide.low < narrow.low and wide.high > narrow.high
    assert wide.ratio == pytest.approx(narrow.ratio)


def test_spread_is_half_the_log_width_as_a_fraction():
    change = Change(ratio=1.0, low=1 / 1.2, high=1.2, samples=5, paired=True)
    assert change.spread == pytest.approx(0.2)
    assert Change(1.0, 0.9, 1.1, 5, True).spread == pytest.approx(
        math.expm1(math.log(1.1 / 0.9) / 2)
    )


def test_spread_grows_with_noise():
    quiet = paired_change(BASE, scaled(BASE, LOW_NOISE), 0.95)
    noisy = paired_change(BASE, scaled(BASE, HEAVY_NOISE), 0.95)
    assert 0 < quiet.spread < 0.05 < noisy.spread


def test_paired_samples_must_have_the_same_length():
    with pytest.raises(ValueError, match="differ in length: 3 and 2"):
        paired_change([1.0, 2.0, 3.0], [1.0, 2.0], 0.95)


@pytest.mark.parametrize("compare", [paired_change, unpaired_change])
@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_samples_are_refused(compare, count):
    with pytest.raises(ValueError, match="at least 2"):
        compare([1.0] * count, [1.0] * count, 0.95)


def test_unpaired_needs_two_values_on_each_side():
    with pytest.raises(ValueError, match="got 5 and 1"):
        unpaired_change(BASE, [1.0], 0.95)


@pytest.mark.parametrize("compare", [paired_change, unpaired_change])
@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_non_positive_values_are_refused(compare, bad):
    with pytest.raises(ValueError, match="values > 0"):
        compare([1.0, 2.0, 3.0], [1.0, bad, 3.0], 0.95)
    with pytest.raises(ValueError, match="values > 0"):
        compare([bad, 2.0, 3.0], [1.0, 2.0, 3.0], 0.95)
