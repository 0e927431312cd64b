"""The delivery probe: stamps what is published, times what is delivered, merges histograms."""

import asyncio
import time

import pytest

from bench.probes.delivery import DeliveryProbe, merge_encoded, summarise
from cascade.connectors import LocalBroker, LocalBusConnector


@pytest.fixture
def frozen_then_late(monkeypatch):
    """time.time() as a list of answers: the publish reads the first, the delivery the next."""
    answers: list[float] = []
    monkeypatch.setattr(time, "time", lambda: answers.pop(0))
    return answers


async def test_a_delivery_is_timed_and_the_callback_gets_the_payload_alone(frozen_then_late):
    probe = DeliveryProbe()
    broker = LocalBroker()
    connector = probe.wrap(LocalBusConnector(broker))
    await connector.connect()
    heard = []

    async def callback(topic, payload):
        heard.append((topic, payload))

    await connector.subscribe("firefly/0/7/inbox", callback)
    frozen_then_late.extend([100.0, 100.0125])  # sent at 100 s, delivered 12.5 ms later
    assert await connector.publish("firefly/0/7/inbox", 3) == 1
    await asyncio.sleep(0)

    assert heard == [("firefly/0/7/inbox", 3)]
    result = probe.result()
    assert result.metrics["count"] == 1
    assert result.metrics["p50_ms"] == pytest.approx(12.5, rel=1e-3)
    assert result.metrics["max_ms"] == pytest.approx(12.5, rel=1e-3)
    await connector.disconnect()
    await broker.aclose()


def test_nothing_delivered_is_a_count_of_zero_and_no_percentiles():
    assert DeliveryProbe().result().metrics == {
        "count": 0,
        "p50_ms": None,
        "p99_ms": None,
        "max_ms": None,
        "mean_ms": None,
    }


def test_encoded_histograms_merge_into_one_distribution():
    first, second = DeliveryProbe(), DeliveryProbe()
    for value in (1_000, 2_000):
        first.histogram.record_value(value)
    second.histogram.record_value(90_000)

    merged = merge_encoded([p.result().series["delivery_histogram"] for p in (first, second)])

    assert summarise(merged)["count"] == 3
    assert summarise(merged)["max_ms"] == pytest.approx(90.0, rel=1e-3)
