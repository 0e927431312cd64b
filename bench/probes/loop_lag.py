"""Event-loop lag: how late a task that asks to wake every `interval` actually wakes.

Lags go into an HDR histogram in microseconds with coordinated-omission correction, so a
500 ms stall also counts the ~50 wake-ups it swallowed instead of looking like one bad sample.
A second histogram, emptied every second, gives the per-second max and p99.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hdrh.histogram import HdrHistogram

from bench.probes.base import Probe, ProbeResult, cancel_and_wait
from bench.probes.latency import HIGHEST_SECONDS, ms, new_histogram

_PERCENTILES = {"p50_ms": 50.0, "p90_ms": 90.0, "p99_ms": 99.0, "p999_ms": 99.9}

MAX_INTERVAL_SECONDS = HIGHEST_SECONDS / 2
"""The longest interval the default histograms allow: they must hold two intervals."""


class LoopLagProbe(Probe):
    """Samples how late the loop wakes a sleeper; timing only means something on the real clock."""

    name = "loop_lag"
    timing = True

    def __init__(self, interval: float = 0.010, highest_seconds: float = HIGHEST_SECONDS) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if not highest_seconds >= 2 * interval:
            raise ValueError(
                f"highest_seconds must be at least twice the interval ({2 * interval!r}),"
                f" got {highest_seconds!r}"
            )
        self._interval = interval
        self._interval_us = max(1, round(interval * 1_000_000))
        self._highest_us = round(highest_seconds * 1_000_000)
        self._run_hist = new_histogram(highest_seconds)
        self._second_hist = new_histogram(highest_seconds)
        self._second_closed = False
        self._second = 0
        self._series: dict[str, list[Any]] = {"t_s": [], "max_ms": [], "p99_ms": [], "count": []}
        self._task: asyncio.Task[None] | None = None
        self._start = 0.0

    def start(self) -> None:
        """Start the sampling task on the running loop."""
        if self._task is not None:
            raise RuntimeError("LoopLagProbe was already started; use a new probe per run")
        loop = asyncio.get_running_loop()
        self._start = loop.time()
        self._task = loop.create_task(self._sample(loop), name="bench.probes.loop_lag")

    def last_second_p99_ms(self) -> float | None:
        """The p99 lag of the last complete second: cheap enough for a live status line."""
        values = [v for v in self._series["p99_ms"] if v is not None]
        return values[-1] if values else None

    async def stop(self) -> None:
        """Cancel the sampling task and close the current partial second into the series."""
        if self._task is None:
            return
        try:
            await cancel_and_wait(self._task)
        finally:
            self._close_second()

    def result(self) -> ProbeResult:
        """Lag statistics so far (ms), the per-second series and the encoded run histogram."""
        series = {key: list(values) for key, values in self._series.items()}
        if not self._second_closed and self._second_hist.get_total_count():
            _append_second(series, self._second, self._second_hist)
        return ProbeResult(
            metrics=_metrics(self._run_hist),
            series={
                "loop_lag_per_second": series,
                "loop_lag_histogram": self._run_hist.encode().decode("ascii"),
            },
        )

    async def _sample(self, loop: asyncio.AbstractEventLoop) -> None:
        # Locals keep the 10 ms hot loop to a few attribute reads.
        interval, interval_us, highest_us = self._interval, self._interval_us, self._highest_us
        run_hist, start = self._run_hist, self._start
        second_hist = self._second_hist
        while True:
            expected = loop.time() + interval
            await asyncio.sleep(interval)
            now = loop.time()
            lag_us = min(int(max(0.0, now - expected) * 1_000_000), highest_us)
            if int(now - start) != self._second:
                second_hist = self._next_second(int(now - start))
            run_hist.record_corrected_value(lag_us, interval_us)
            second_hist.record_corrected_value(lag_us, interval_us)

    def _next_second(self, second: int) -> HdrHistogram:
        """Close the finished second, add empty entries for seconds with no wake-up at all."""
        _append_second(self._series, self._second, self._second_hist)
        for empty in range(self._second + 1, second):
            _append_second(self._series, empty, None)
        self._second = second
        # reset() walks every counter in Python (0.6 ms here); a fresh histogram costs 0.07 ms
        # but is a reference cycle (histogram <-> encoder) of 140 KB that only a full
        # collection frees: a new one each second made RSS climb between full collections.
        self._second_hist.reset()
        return self._second_hist

    def _close_second(self) -> None:
        if not self._second_closed and self._second_hist.get_total_count():
            _append_second(self._series, self._second, self._second_hist)
        self._second_closed = True


def _metrics(hist: HdrHistogram) -> dict[str, Any]:
    """Count and lag percentiles in ms; None (count 0) when nothing was recorded."""
    count = hist.get_total_count()
    if not count:
        return {"count": 0, "mean_ms": None, **dict.fromkeys(_PERCENTILES), "max_ms": None}
    values = hist.get_percentile_to_value_dict(list(_PERCENTILES.values()))
    percentiles = {key: ms(values[p]) for key, p in _PERCENTILES.items()}
    return {
        "count": int(count),
        "mean_ms": ms(hist.get_mean_value()),
        **percentiles,
        "max_ms": ms(hist.get_max_value()),
    }


def _append_second(series: dict[str, list[Any]], second: int, hist: HdrHistogram | None) -> None:
    """One per-second entry; a second without any wake-up (a stall) has count 0 and no lags."""
    series["t_s"].append(second)
    if hist is None or not hist.get_total_count():
        series["max_ms"].append(None)
        series["p99_ms"].append(None)
        series["count"].append(0)
        return
    series["max_ms"].append(ms(hist.get_max_value()))
    series["p99_ms"].append(ms(hist.get_value_at_percentile(99.0)))
    series["count"].append(int(hist.get_total_count()))
