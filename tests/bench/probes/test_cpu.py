"""CpuProbe: process CPU seconds against loop-clock seconds."""

import asyncio
import time

import pytest

from bench.probes.cpu import CpuProbe


def _burn(seconds: float) -> None:
    """Spin on the CPU for `seconds` of process time."""
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass


@pytest.mark.looptime(False)
async def test_busy_loop_is_counted_as_cpu():
    probe = CpuProbe()
    probe.start()
    _burn(0.2)
    await probe.stop()
    metrics = probe.result().metrics
    assert metrics["cpu_s"] >= 0.15
    # cpu_s is nanosecond process time; the user/system split counts 10 ms ticks
    assert metrics["cpu_s"] == pytest.approx(
        metrics["cpu_user_s"] + metrics["cpu_system_s"], abs=0.03
    )
    assert metrics["wall_s"] >= 0.15
    assert metrics["cpu_utilisation"] == pytest.approx(metrics["cpu_s"] / metrics["wall_s"])


@pytest.mark.looptime(False)
async def test_cpu_is_read_to_the_nanosecond_not_in_10_ms_ticks():
    probe = CpuProbe()
    probe.start()
    _burn(0.0123)
    await probe.stop()
    cpu = probe.result().metrics["cpu_s"]
    assert 0.0123 <= cpu < 0.02
    assert round(cpu, 2) != cpu  # not a whole number of ticks


async def test_result_before_stop_measures_up_to_now():
    probe = CpuProbe()
    probe.start()
    await asyncio.sleep(2)
    assert probe.result().metrics["wall_s"] == pytest.approx(2.0)
    await asyncio.sleep(1)
    await probe.stop()
    await asyncio.sleep(5)
    metrics = probe.result().metrics
    assert metrics["wall_s"] == pytest.approx(3.0)
    assert metrics["cpu_utilisation"] == pytest.approx(metrics["cpu_s"] / 3.0)


async def test_no_elapsed_time_gives_no_utilisation():
    probe = CpuProbe()
    probe.start()
    metrics = probe.result().metrics
    assert metrics["wall_s"] == 0
    assert metrics["cpu_utilisation"] is None


async def test_nothing_is_measured_before_start():
    probe = CpuProbe()
    await probe.stop()
    assert probe.result().metrics == dict.fromkeys(
        ["cpu_user_s", "cpu_system_s", "cpu_s", "wall_s", "cpu_utilisation"]
    )
