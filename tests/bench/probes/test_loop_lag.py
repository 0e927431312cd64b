"""LoopLagProbe: lag on a blocked and an idle loop, the per-second series, the empty result."""

import asyncio
import gc
import time

import pytest
from hdrh.histogram import HdrHistogram

from bench.probes.base import ProbeSet
from bench.probes.loop_lag import HIGHEST_SECONDS, MAX_INTERVAL_SECONDS, LoopLagProbe

INTERVAL = 0.010


@pytest.mark.looptime(False)
async def test_catches_a_blocked_loop_and_counts_the_missed_wakeups():
    loop = asyncio.get_running_loop()
    probe = LoopLagProbe(interval=INTERVAL)
    t0 = loop.time()
    probe.start()
    await asyncio.sleep(0.1)
    time.sleep(0.2)  # block the loop on purpose
    await asyncio.sleep(0.1)
    await probe.stop()
    elapsed = loop.time() - t0
    metrics = probe.result().metrics
    assert metrics["max_ms"] >= 190
    assert metrics["count"] >= 0.8 * elapsed / INTERVAL
    assert metrics["p99_ms"] >= 150
    assert metrics["p50_ms"] < metrics["p99_ms"]


@pytest.mark.looptime(False)
async def test_per_second_series_shows_the_stall():
    probe = LoopLagProbe(interval=INTERVAL)
    probe.start()
    await asyncio.sleep(0.05)
    time.sleep(0.2)
    await asyncio.sleep(0.05)
    await probe.stop()
    per_second = probe.result().series["loop_lag_per_second"]
    assert per_second["t_s"] == [0]
    assert per_second["max_ms"][0] >= 190
    assert per_second["p99_ms"][0] >= 150
    assert per_second["count"] == [probe.result().metrics["count"]]


async def test_idle_loop_has_no_lag_and_one_sample_per_interval():
    probe = LoopLagProbe(interval=INTERVAL)
    probe.start()
    await asyncio.sleep(1.0)
    await probe.stop()
    metrics = probe.result().metrics
    assert 99 <= metrics["count"] <= 101
    assert metrics["max_ms"] < 0.01
    assert metrics["mean_ms"] < 0.01


async def test_per_second_series_has_one_entry_per_second_and_the_partial_last():
    probe = LoopLagProbe(interval=INTERVAL)
    probe.start()
    await asyncio.sleep(2.5)
    await probe.stop()
    per_second = probe.result().series["loop_lag_per_second"]
    assert per_second["t_s"] == [0, 1, 2]
    assert per_second["count"][0] in (99, 100)
    assert per_second["count"][1] == 100
    assert 49 <= per_second["count"][2] <= 51
    assert per_second["max_ms"] == [0.0, 0.0, 0.0]


async def test_result_mid_run_includes_the_current_second():
    probe = LoopLagProbe(interval=INTERVAL)
    probe.start()
    await asyncio.sleep(0.5)
    result = probe.result()
    await probe.stop()
    assert result.series["loop_lag_per_second"]["t_s"] == [0]
    assert 49 <= result.metrics["count"] <= 51
    assert probe.result().metrics["count"] >= result.metrics["count"]


async def test_encoded_histogram_rebuilds_the_run_distribution():
    probe = LoopLagProbe(interval=INTERVAL)
    probe.start()
    await asyncio.sleep(0.3)
    await probe.stop()
    result = probe.result()
    rebuilt = HdrHistogram.decode(result.series["loop_lag_histogram"])
    assert rebuilt.get_total_count() == result.metrics["count"]


def test_result_before_any_sample_is_empty():
    result = LoopLagProbe().result()
    assert result.metrics == {
        "count": 0,
        "mean_ms": None,
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": None,
        "p999_ms": None,
        "max_ms": None,
    }
    assert result.series["loop_lag_per_second"] == {
        "t_s": [],
        "max_ms": [],
        "p99_ms": [],
        "count": [],
    }
    assert HdrHistogram.decode(result.series["loop_lag_histogram"]).get_total_count() == 0


async def test_stop_before_start_is_a_no_op():
    probe = LoopLagProbe()
    await probe.stop()
    assert probe.result().metrics["count"] == 0


@pytest.mark.parametrize("interval", [0, -0.5])
def test_rejects_a_non_positive_interval(interval):
    with pytest.raises(ValueError) as error:
        LoopLagProbe(interval=interval)
    assert str(error.value) == f"interval must be > 0 seconds, got {interval!r}"


def test_rejects_a_highest_value_below_two_intervals():
    with pytest.raises(ValueError) as error:
        LoopLagProbe(interval=0.5, highest_seconds=0.9)
    assert str(error.value) == "highest_seconds must be at least twice the interval (1.0), got 0.9"


def test_the_longest_interval_is_half_the_highest_lag_recorded():
    assert (HIGHEST_SECONDS, MAX_INTERVAL_SECONDS) == (60.0, 30.0)
    LoopLagProbe(interval=MAX_INTERVAL_SECONDS)
    with pytest.raises(ValueError) as error:
        LoopLagProbe(interval=30.5)
    message = "highest_seconds must be at least twice the interval (61.0), got 60.0"
    assert str(error.value) == message


async def test_runs_inside_a_probe_set():
    probes = ProbeSet([LoopLagProbe(interval=INTERVAL)])
    probes.start()
    await asyncio.sleep(0.1)
    await probes.stop()
    assert probes.errors == {}
    assert probes.results()["loop_lag"].metrics["count"] >= 9


async def test_the_per_second_histogram_is_emptied_not_replaced():
    # A histogram and its encoder refer to each other: one dropped each second was 140 KB
    # that only a full collection freed, and RSS climbed between full collections.
    def histograms() -> int:
        return sum(type(o) is HdrHistogram for o in gc.get_objects())

    gc.collect()
    before = histograms()
    gc.disable()
    try:
        probe = LoopLagProbe(interval=0.1)
        probe.start()
        await asyncio.sleep(30.0)  # looptime: 30 virtual seconds
        await probe.stop()
        alive = histograms() - before
    finally:
        gc.enable()

    assert alive == 2  # the run's and the current second's
    assert len(probe.result().series["loop_lag_per_second"]["t_s"]) == 30
