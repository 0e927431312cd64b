"""Latency distributions in bounded memory: HDR histograms of microseconds, read in milliseconds.

The loop-lag and frame probes both record one value per wake-up or frame for as long as a
run lasts; a list of them grows with the run (60 frames a second are 5.8 KB/s of floats),
a histogram does not. Percentiles are HdrHistogram's: the recorded value at that rank,
to 3 significant digits; maxima and means are kept exactly beside it.
"""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

HIGHEST_SECONDS = 60.0
"""The longest latency a histogram records; a longer one is counted as this."""

_LOWEST_US = 1
_SIGNIFICANT_FIGURES = 3


def new_histogram(highest_seconds: float = HIGHEST_SECONDS) -> HdrHistogram:
    """An empty histogram of microseconds, from 1 µs to `highest_seconds`, 3 digits."""
    return HdrHistogram(_LOWEST_US, round(highest_seconds * 1_000_000), _SIGNIFICANT_FIGURES)


def ms(microseconds: float) -> float:
    """Microseconds (a histogram's unit) as milliseconds (a result's unit)."""
    return float(microseconds) / 1000.0


class Spread:
    """Millisecond values of unbounded number in fixed memory: percentiles, exact max and mean."""

    def __init__(self, highest_seconds: float = HIGHEST_SECONDS) -> None:
        self._histogram = new_histogram(highest_seconds)
        self._highest_us = round(highest_seconds * 1_000_000)
        self.count = 0
        self.max_ms = 0.0
        self.total_ms = 0.0

    def record(self, value_ms: float) -> None:
        """Add one value (clamped into the histogram's range; max and mean stay exact)."""
        self._histogram.record_value(min(max(0, round(value_ms * 1000.0)), self._highest_us))
        self.count += 1
        self.total_ms += value_ms
        self.max_ms = max(self.max_ms, value_ms)

    def summary(self, name: str, percentiles: dict[str, float]) -> dict[str, Any]:
        """`{name}_{key}` for each percentile, `{name}_max_ms`; None for all when empty."""
        keys = [f"{name}_{key}" for key in percentiles] + [f"{name}_max_ms"]
        if not self.count:
            return dict.fromkeys(keys)
        at = self._histogram.get_percentile_to_value_dict(list(percentiles.values()))
        values = [ms(at[p]) for p in percentiles.values()] + [self.max_ms]
        return dict(zip(keys, values, strict=True))

    def mean_ms(self) -> float | None:
        """The exact mean of the recorded values; None when there are none."""
        return self.total_ms / self.count if self.count else None
