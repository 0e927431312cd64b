"""MemoryProbe: checkpoints, per-unit growth, loop-clock sampling, leak slope, tracemalloc."""

import asyncio
import tracemalloc

import pytest

from bench.probes.memory import MemoryProbe

MIB = 1 << 20


def _touched_buffer(size: int) -> bytearray:
    """A buffer whose every page has been written, so it is resident."""
    buffer = bytearray(size)
    buffer[::4096] = b"\x01" * len(range(0, size, 4096))
    return buffer


def test_per_unit_bytes_reflect_what_setup_allocated():
    probe = MemoryProbe(units=4)
    probe.checkpoint("baseline")
    buffer = _touched_buffer(64 * MIB)
    probe.checkpoint("after_setup")
    del buffer
    probe.checkpoint("end")
    metrics = probe.result().metrics
    assert 0.8 * 16 * MIB < metrics["rss_per_agent_bytes"] < 1.25 * 16 * MIB
    if metrics["uss_per_agent_bytes"] is not None:
        assert 0.8 * 16 * MIB < metrics["uss_per_agent_bytes"] < 1.25 * 16 * MIB
    assert metrics["rss_peak_bytes"] >= metrics["rss_after_setup_bytes"]
    assert metrics["rss_end_bytes"] < metrics["rss_after_setup_bytes"] - 32 * MIB


def test_unit_name_names_the_per_unit_metrics():
    probe = MemoryProbe(units=1, unit_name="engine")
    probe.checkpoint("baseline")
    probe.checkpoint("after_setup")
    metrics = probe.result().metrics
    assert "rss_per_engine_bytes" in metrics
    assert "uss_per_engine_bytes" in metrics
    assert "rss_per_agent_bytes" not in metrics


async def test_sampling_follows_the_loop_clock():
    probe = MemoryProbe(units=1, sample_interval=1.0)
    probe.start()
    await asyncio.sleep(5.5)
    await probe.stop()
    await asyncio.sleep(3)  # nothing is sampled after stop()
    rss = probe.result().series["rss"]
    assert rss["t_s"] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert len(rss["rss_bytes"]) == 6
    assert all(value > 0 for value in rss["rss_bytes"])


async def test_peak_and_slope_come_from_the_samples():
    probe = MemoryProbe(units=1, sample_interval=0.5)
    probe.start()
    await asyncio.sleep(4)
    await probe.stop()
    result = probe.result()
    assert result.metrics["rss_peak_bytes"] == max(result.series["rss"]["rss_bytes"])
    assert isinstance(result.metrics["leak_slope_bytes_per_s"], float)


@pytest.mark.skipif(tracemalloc.is_tracing(), reason="tracemalloc is already on for this run")
def test_trace_python_reports_python_allocations():
    probe = MemoryProbe(units=1, trace_python=True)
    try:
        probe.checkpoint("baseline")
        assert tracemalloc.is_tracing()
        first = [str(i) for i in range(100_000)]
        probe.checkpoint("after_setup")
        second = [str(i) for i in range(100_000)]
        probe.checkpoint("end")
        assert not tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    metrics = probe.result().metrics
    after_setup = metrics["python_current_after_setup_bytes"]
    end = metrics["python_current_end_bytes"]
    assert after_setup > 4 * MIB
    assert end > after_setup + 4 * MIB
    assert metrics["python_peak_bytes"] >= end
    assert metrics["python_per_agent_bytes"] == pytest.approx(after_setup, rel=0.01)
    assert len(first) == len(second)


def test_python_metrics_are_absent_without_trace_python():
    probe = MemoryProbe(units=1)
    probe.checkpoint("baseline")
    assert not any(key.startswith("python_") for key in probe.result().metrics)


@pytest.mark.skipif(tracemalloc.is_tracing(), reason="tracemalloc is already on for this run")
async def test_missing_checkpoints_give_none():
    probe = MemoryProbe(units=2, trace_python=True)
    await probe.stop()  # stop without start is harmless
    untouched = probe.result()
    assert set(untouched.metrics.values()) == {None}
    assert untouched.series == {"rss": {"t_s": [], "rss_bytes": []}}
    probe.checkpoint("baseline")
    tracemalloc.stop()  # the run was interrupted before "end", which would have stopped it
    metrics = probe.result().metrics
    assert metrics["rss_baseline_bytes"] > 0
    assert metrics["rss_after_setup_bytes"] is None
    assert metrics["rss_per_agent_bytes"] is None
    assert metrics["uss_per_agent_bytes"] is None
    assert metrics["rss_peak_bytes"] == metrics["rss_baseline_bytes"]
    assert metrics["python_current_end_bytes"] is None
    assert metrics["python_per_agent_bytes"] is None


def test_arguments_are_checked():
    with pytest.raises(ValueError, match=r"^units must be at least 1, got 0$"):
        MemoryProbe(units=0)
    with pytest.raises(ValueError, match=r"^sample_interval must be positive, got 0$"):
        MemoryProbe(units=1, sample_interval=0)


def test_units_can_be_corrected_after_set_up():
    """Set-up stopped early: the runner tells the probe how many units were really set up."""
    probe = MemoryProbe(units=16)
    probe.checkpoint("baseline")
    buffer = _touched_buffer(64 * MIB)
    probe.checkpoint("after_setup")
    probe.units = 4
    metrics = probe.result().metrics
    del buffer
    growth = metrics["rss_after_setup_bytes"] - metrics["rss_baseline_bytes"]
    assert metrics["rss_per_agent_bytes"] == growth / 4
    assert 0.8 * 16 * MIB < metrics["rss_per_agent_bytes"] < 1.25 * 16 * MIB
    assert probe.units == 4
    with pytest.raises(ValueError, match=r"^units must be at least 1, got -1$"):
        probe.units = -1
