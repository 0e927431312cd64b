"""The event-loop-lag distribution of a set of runs, from their HDR histograms (pure).

The same reading serves any histogram of microseconds a run keeps: the delivery latency's too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hdrh.histogram import HdrHistogram

from bench.suite.layout import document_column

_US_PER_MS = 1000.0


@dataclass(frozen=True, slots=True)
class Cdf:
    """Cumulative fraction of lag samples at or below each recorded value (ms)."""

    values_ms: tuple[float, ...]
    fractions: tuple[float, ...]
    count: int
    runs: int

    def value_at(self, fraction: float) -> float:
        """The smallest recorded value with at least `fraction` of the samples at or below it."""
        return next(v for v, f in zip(self.values_ms, self.fractions, strict=True) if f >= fraction)


def merge_histograms(encoded: Sequence[str]) -> HdrHistogram | None:
    """Decode each run's histogram and add them up: the repeats as one distribution."""
    histograms = [HdrHistogram.decode(text) for text in encoded]
    if not histograms:
        return None
    merged = histograms[0]
    for histogram in histograms[1:]:
        merged.add(histogram)
    return merged


def lag_cdf(encoded: Sequence[str]) -> Cdf | None:
    """The CDF of the merged histograms (values in µs become ms); None without samples."""
    merged = merge_histograms(encoded)
    total = merged.get_total_count() if merged is not None else 0
    if merged is None or total == 0:
        return None
    steps = [
        (step.value_iterated_to / _US_PER_MS, step.total_count_to_this_value / total)
        for step in merged.get_recorded_iterator()
    ]
    values, fractions = zip(*steps, strict=True)
    return Cdf(values, fractions, total, len(encoded))


def mode_cdfs(
    documents: Sequence[dict[str, Any]],
    modes: Sequence[str],
    agents: int,
    series: str = "loop_lag_histogram",
) -> dict[str, Cdf]:
    """Each column's CDF at one agent count, every repeat that has the histogram merged.

    A column is a mode, or a mode in a layout ("shared@mqtt-2w", bench/suite/layout.py);
    `series` names the histogram: the loop lag's, or the delivery latency's.
    """
    cdfs = {}
    for mode in modes:
        encoded = [
            doc["series"][series]
            for doc in documents
            if _config(doc) == (mode, agents) and doc["series"].get(series)
        ]
        cdf = lag_cdf(encoded)
        if cdf is not None:
            cdfs[mode] = cdf
    return cdfs


def _config(document: dict[str, Any]) -> tuple[str, int]:
    return document_column(document), document["config"]["agents"]
