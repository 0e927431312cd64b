import asyncio

import numpy as np
import pytest

from bench.workload.convergence import ConvergenceMonitor, order_parameter
from bench.workload.topology import FLASH_TOPIC
from cascade.connectors.local import LocalBusConnector


def test_synchronous_flashes_give_r_one():
    assert order_parameter(np.full(50, 3.0), now=4.0, period=5.0) == pytest.approx(1.0)


def test_evenly_spread_flashes_give_r_zero():
    times = np.linspace(0.0, 5.0, 100, endpoint=False)
    assert order_parameter(times, now=5.0, period=5.0) == pytest.approx(0.0, abs=1e-9)


def test_agents_that_never_flashed_are_left_out():
    times = np.array([np.nan, 1.0, 1.0])
    assert order_parameter(times, now=2.0, period=5.0) == pytest.approx(1.0)
    assert order_parameter(np.full(3, np.nan), now=2.0, period=5.0) is None


async def test_monitor_samples_r_and_flash_rate_from_the_flash_topic(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    seen: list[int] = []
    monitor = ConvergenceMonitor(agents=4, period=5.0, interval=1.0, on_flash=seen.append)
    await monitor.start(connector)
    loop = asyncio.get_running_loop()
    for agent in range(4):
        await connector.publish(FLASH_TOPIC, (agent, loop.time()))
    await asyncio.sleep(3.5)
    await monitor.stop()
    series = monitor.series()
    assert series["t_s"] == [1.0, 2.0, 3.0]
    assert series["flashes_per_s"] == [4.0, 0.0, 0.0]
    assert series["r"] == [pytest.approx(1.0)] * 3
    assert sorted(seen) == [0, 1, 2, 3]
    assert monitor.result()["agents_seen_flashing"] == 4
    assert monitor.latest_order_parameter() == pytest.approx(1.0)


@pytest.mark.parametrize(("arrival_time", "r"), [(False, 0.0), (True, 1.0)])
async def test_a_flash_is_dated_by_its_message_or_by_its_arrival(broker, arrival_time, r):
    connector = LocalBusConnector(broker)
    await connector.connect()
    monitor = ConvergenceMonitor(agents=2, period=4.0, arrival_time=arrival_time)
    await monitor.start(connector)
    now = asyncio.get_running_loop().time()
    # Two clocks half a period apart (another host's): by their messages, the two flashes
    # are in antiphase; they arrive together.
    await connector.publish(FLASH_TOPIC, (0, now))
    await connector.publish(FLASH_TOPIC, (1, now - 2.0))
    await asyncio.sleep(1.5)
    await monitor.stop()
    assert monitor.latest_order_parameter() == pytest.approx(r, abs=1e-9)


def test_flash_rate_is_per_second_actually_covered_by_a_late_sample():
    monitor = ConvergenceMonitor(agents=4, period=5.0, interval=1.0)
    for agent in range(3):
        monitor.record(agent, 0.5)
    monitor._sample(1.5)  # the sampler woke 0.5 s late
    assert monitor.series()["flashes_per_s"] == [2.0]
