"""How much a metric moved from base to head: a ratio with a confidence interval.

Ratios are compared on a log scale (a 10% slowdown and a 10% speed-up are symmetric
there), and the interval is scipy's Student-t interval: on the paired log-ratios when base
and head ran in pairs, Welch's on the two samples when the base is a stored suite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_SAMPLES = 2
"""An interval needs at least two values per side."""

_ROUNDING = 1e-12  # log-ratio spread below this is float rounding, not noise


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
    base_logs, head_logs = np.log(_positive(base)), np.log(_positive(head))
    if min(len(base_logs), len(head_logs)) < MIN_SAMPLES:
        raise ValueError(
            f"need at least {MIN_SAMPLES} values per side, got {len(base_logs)} and "
            f"{len(head_logs)}"
        )
    mean = float(np.mean(head_logs) - np.mean(base_logs))
    if _constant(base_logs) and _constant(head_logs):
        return _change(mean, mean, mean, len(head_logs), paired=False)
    result = stats.ttest_ind(head_logs, base_logs, equal_var=False)
    interval = result.confidence_interval(confidence)
    return _change(mean, interval.low, interval.high, len(head_logs), paired=False)


def _constant(logs: np.ndarray) -> bool:
    """No spread beyond float rounding (scipy would warn of catastrophic cancellation)."""
    return bool(np.ptp(logs) <= _ROUNDING)


def _positive(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.size and not np.all(array > 0):
        raise ValueError(f"ratios need values > 0, got {list(values)}")
    return array


def _change(mean: float, low: float, high: float, samples: int, *, paired: bool) -> Change:
    return Change(math.exp(mean), math.exp(low), math.exp(high), samples, paired)
