"""The project's statistics, pure functions over plain numbers (numpy and scipy's public API).

One place for the tests that decide something, so that the gate and the report agree:

- how much a metric moved, head/base, with a confidence interval: Student's t on paired
  log-ratios when base and head ran side by side, Welch's on two independent samples
  (the gate, and its `--baseline` suite);
- whether two suites differ: Welch's two-sample t-test on the log of the values, the same
  test as the unpaired interval (the report's comparison);
- whether a series still grows: the least-squares slope of its second half (the memory and
  objects probes, the soak);
- what the repeats of one configuration say: their median and median absolute deviation
  (every table of the suite and the report).

Values are compared on a log scale: a 10% slowdown and a 10% speed-up are symmetric there,
and timings are noisy by a factor, not by a fixed amount.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_SAMPLES = 2
"""A t-test needs at least two values per side (or two pairs)."""

_MIN_SLOPE_POINTS = 3
_ROUNDING = 1e-12  # log spread below this is float rounding, not noise


@dataclass(frozen=True, slots=True)
class Change:
    """head/base as a ratio (geometric mean) and its confidence interval."""

    ratio: float
    low: float
    high: float
    samples: int
    paired: bool

    @property
    def above_one(self) -> bool:
        """The whole interval is above 1: head is significantly larger than base."""
        return self.low > 1.0

    @property
    def below_one(self) -> bool:
        """The whole interval is below 1: head is significantly smaller than base."""
        return self.high < 1.0

    @property
    def spread(self) -> float:
        """Half the interval's width on the log scale, as a fraction (the noise level)."""
        return math.expm1((math.log(self.high) - math.log(self.low)) / 2)


@dataclass(frozen=True, slots=True)
class WelchTest:
    """Welch's t-test of log(new) against log(old): t > 0 when new is larger."""

    t_score: float
    df: float
    p_value: float
    significant: bool


def paired_change(base: Sequence[float], head: Sequence[float], confidence: float) -> Change:
    """The change from pairs (base[i], head[i]) measured side by side; values must be > 0."""
    if len(base) != len(head):
        raise ValueError(f"paired samples differ in length: {len(base)} and {len(head)}")
    logs = np.log(_positive(head)) - np.log(_positive(base))
    if len(logs) < MIN_SAMPLES:
        raise ValueError(f"need at least {MIN_SAMPLES} pairs, got {len(logs)}")
    mean = float(np.mean(logs))
    if _constant(logs):  # every pair moved by the same factor: no noise, a point interval
        return _change(mean, mean, mean, len(logs), paired=True)
    interval = stats.ttest_1samp(logs, 0.0).confidence_interval(confidence)
    return _change(mean, interval.low, interval.high, len(logs), paired=True)


def unpaired_change(base: Sequence[float], head: Sequence[float], confidence: float) -> Change:
    """The change between two independent samples (Welch's interval on the log means)."""
    base_logs, head_logs = _sides(base, head)
    if _constant(base_logs) and _constant(head_logs):
        mean = float(np.mean(head_logs) - np.mean(base_logs))
        return _change(mean, mean, mean, len(head_logs), paired=False)
    mean, error, df = _welch(base_logs, head_logs)
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * error
    return _change(mean, mean - half, mean + half, len(head_logs), paired=False)


def welch_test(old: Sequence[float], new: Sequence[float], confidence: float = 0.95) -> WelchTest:
    """Do two independent samples differ? Welch's two-sided t-test on their logs.

    The same statistic as `unpaired_change`: significant exactly when that interval, at the
    same confidence, excludes 1. Unlike Student's, it allows unequal sizes and variances.
    """
    old_logs, new_logs = _sides(old, new)
    if _constant(old_logs) and _constant(new_logs):
        raise ValueError("no variance: each side's values are identical")
    diff, error, df = _welch(old_logs, new_logs)
    t_score = diff / error
    p_value = float(2 * stats.t.sf(abs(t_score), df))
    return WelchTest(t_score, df, p_value, p_value < 1 - confidence)


def is_constant(values: Sequence[float]) -> bool:
    """All values equal up to float rounding (relative): a t-test has no variance to use."""
    return _constant(np.log(_positive(values)))


def median_mad(values: Sequence[float]) -> tuple[float, float]:
    """The median of the values and their median absolute deviation (pyperf's "median +- MAD").

    Robust to one wild repeat, as a suite of three runs on a shared machine needs.
    """
    if not values:
        raise ValueError("median_mad needs at least one value")
    median = statistics.median(values)
    return median, statistics.median(abs(value - median) for value in values)


def leak_slope(t: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope (per second) of the second half of a series: does it still grow?

    The first half is left out so that warm-up growth does not pass for a leak. None with
    fewer than three points (or a single instant) in that half.
    """
    if len(t) != len(values):
        raise ValueError(f"leak_slope needs one time per value, got {len(t)} and {len(values)}")
    half = len(t) // 2
    tail_t, tail_values = t[half:], values[half:]
    if len(tail_t) < _MIN_SLOPE_POINTS or len(set(tail_t)) < 2:
        return None
    slope = np.polyfit(np.asarray(tail_t, dtype=float), np.asarray(tail_values, dtype=float), 1)[0]
    return float(slope)


def _welch(base_logs: np.ndarray, head_logs: np.ndarray) -> tuple[float, float, float]:
    """Mean difference, its standard error and Welch-Satterthwaite degrees of freedom.

    What scipy.stats.ttest_ind(equal_var=False) computes, from the sample variances: a
    side with no spread has variance 0 here, where scipy warns of catastrophic cancellation.
    """
    head_var = float(np.var(head_logs, ddof=1)) / len(head_logs)
    base_var = float(np.var(base_logs, ddof=1)) / len(base_logs)
    df = (head_var + base_var) ** 2 / (
        head_var**2 / (len(head_logs) - 1) + base_var**2 / (len(base_logs) - 1)
    )
    diff = float(np.mean(head_logs) - np.mean(base_logs))
    return diff, math.sqrt(head_var + base_var), df


def _sides(base: Sequence[float], head: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    base_logs, head_logs = np.log(_positive(base)), np.log(_positive(head))
    if min(len(base_logs), len(head_logs)) < MIN_SAMPLES:
        raise ValueError(
            f"need at least {MIN_SAMPLES} values per side, got {len(base_logs)} and "
            f"{len(head_logs)}"
        )
    return base_logs, head_logs


def _constant(logs: np.ndarray) -> bool:
    """No spread beyond float rounding (scipy would warn of catastrophic cancellation)."""
    return bool(np.ptp(logs) <= _ROUNDING)


def _positive(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.size and not np.all(array > 0):
        raise ValueError(f"need values > 0 (compared on a log scale), got {list(values)}")
    return array


def _change(mean: float, low: float, high: float, samples: int, *, paired: bool) -> Change:
    return Change(math.exp(mean), math.exp(low), math.exp(high), samples, paired)
