"""bench.stats: the gate's change intervals, the report's Welch test, the leak slope."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from bench.stats import (
    Change,
    is_constant,
    leak_slope,
    paired_change,
    unpaired_change,
    welch_test,
)

# The gate's change intervals (moved unchanged from tests/bench/gate/test_change.py).

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


# Welch's t-test, the report's: expected values from scipy directly, i.e.
# stats.ttest_ind(np.log(new), np.log(old), equal_var=False).


def test_welch_test_on_a_clear_change():
    found = welch_test([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
    assert found.t_score == pytest.approx(10.742714794704039, rel=1e-12)
    assert found.df == pytest.approx(2.936489040514065, rel=1e-12)
    assert found.p_value == pytest.approx(0.0018964239734209417, rel=1e-9)
    assert found.significant


def test_welch_test_on_noise():
    found = welch_test([1.0, 1.2, 0.9], [1.1, 1.0, 1.0])
    assert found.t_score == pytest.approx(0.06808339154536475, rel=1e-9)
    assert found.p_value == pytest.approx(0.9506776807275066, rel=1e-9)
    assert not found.significant


def test_welch_test_takes_different_sizes():
    found = welch_test([1.0, 1.1, 0.9], [2.0, 2.1])
    assert found.t_score == pytest.approx(11.464923123902754, rel=1e-12)
    assert found.df == pytest.approx(2.607819210648919, rel=1e-12)
    assert found.significant


def test_welch_test_sign_says_which_side_is_larger():
    assert welch_test([2.0, 2.1, 1.9], [1.0, 1.1, 0.9]).t_score < 0


def test_welch_test_with_one_constant_side_raises_no_warning():
    # scipy's ttest_ind warns of catastrophic cancellation here; that side's variance is 0.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = welch_test([5.0, 5.0, 5.0], [5.5, 5.6, 5.4])
    assert found.t_score == pytest.approx(9.067890707793383, rel=1e-12)
    assert (found.df, found.significant) == (2.0, True)
    assert found.p_value == pytest.approx(0.011944058149806732, rel=1e-9)


def test_welch_test_confidence_sets_the_threshold():
    old, new = [1.0, 1.2, 0.9, 1.1], [1.2, 1.3, 1.05, 1.25]
    assert 0.05 < welch_test(old, new).p_value < 0.2
    assert not welch_test(old, new, 0.95).significant
    assert welch_test(old, new, 0.80).significant


def test_welch_test_refuses_what_it_cannot_test():
    with pytest.raises(ValueError, match=r"^no variance: each side's values are identical$"):
        welch_test([3.0, 3.0], [4.0, 4.0])
    with pytest.raises(ValueError, match="got 3 and 1"):
        welch_test([1.0, 2.0, 3.0], [1.0])
    with pytest.raises(ValueError, match="values > 0"):
        welch_test([1.0, 2.0], [0.0, 1.0])


def random_samples(count):
    rng = np.random.default_rng(7)
    for _ in range(count):
        yield (
            rng.lognormal(0.0, rng.uniform(0.01, 0.5), rng.integers(2, 8)),
            rng.lognormal(0.1, rng.uniform(0.01, 0.5), rng.integers(2, 8)),
        )


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_welch_matches_scipys_ttest_ind_and_its_interval(confidence):
    for old, new in random_samples(50):
        scipy_test = stats.ttest_ind(np.log(new), np.log(old), equal_var=False)
        interval = scipy_test.confidence_interval(confidence)
        found, change = welch_test(old, new, confidence), unpaired_change(old, new, confidence)
        assert found.t_score == pytest.approx(scipy_test.statistic, rel=1e-10)
        assert found.df == pytest.approx(scipy_test.df, rel=1e-10)
        assert found.p_value == pytest.approx(scipy_test.pvalue, rel=1e-8)
        assert (change.low, change.high) == pytest.approx(
            (math.exp(interval.low), math.exp(interval.high)), rel=1e-12
        )
        # one test: significant exactly when the gate's unpaired interval excludes 1
        assert found.significant == (change.above_one or change.below_one)


def test_is_constant_up_to_float_rounding():
    assert is_constant([3.0, 3.0, 3.0]) and is_constant([0.1 + 0.2, 0.3])
    assert not is_constant([3.0, 3.0, 3.000001])


# The least-squares trend of a series' second half (memory and objects probes, the soak).


def test_leak_slope_of_a_flat_series_is_zero():
    assert leak_slope(range(10), [5e8] * 10) == pytest.approx(0.0, abs=1e-6)


def test_leak_slope_ignores_the_first_half():
    t = list(range(20))
    warm_up = [1e6 * i for i in range(10)]
    soak = [1e7 + 1000 * i for i in range(10)]
    assert leak_slope(t, warm_up + soak) == pytest.approx(1000.0)


def test_leak_slope_needs_three_points_in_the_second_half():
    assert leak_slope([0, 1, 2, 3], [0, 1, 2, 3]) is None
    assert leak_slope([], []) is None
    assert leak_slope([0, 1, 2, 3, 4], [0, 10, 20, 30, 40]) == pytest.approx(10.0)


def test_leak_slope_of_a_single_instant_is_none():
    assert leak_slope([0, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4, 5]) is None


def test_leak_slope_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match=r"^leak_slope needs one time per value, got 3 and 2$"):
        leak_slope([0, 1, 2], [0, 1])


def test_median_mad_of_the_repeats():
    from bench.stats import median_mad

    assert median_mad([10.0, 12.0, 30.0]) == (12.0, 2.0)
    assert median_mad([4.0]) == (4.0, 0.0)
    assert median_mad([1.0, 2.0, 3.0, 10.0]) == (2.5, 1.0)
    with pytest.raises(ValueError, match="at least one value"):
        median_mad([])
