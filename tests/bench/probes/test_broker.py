"""The broker probe: rates from the `$SYS` totals a broker publishes, or None said why."""

import asyncio

import pytest

from bench.probes.broker import CLIENTS, TOTALS, BrokerProbe
from cascade.connectors import LocalBroker, LocalBusConnector

RECEIVED, SENT = TOTALS["messages_in_per_s"], TOTALS["messages_out_per_s"]


async def test_rates_are_the_growth_of_the_totals_over_the_run():
    broker = LocalBroker()
    connector = LocalBusConnector(broker)
    await connector.connect()
    probe = BrokerProbe(connector)
    await probe.subscribe()
    await connector.publish(RECEIVED, b"999")  # before the run: not a sample
    await connector.publish(CLIENTS, b"2")  # retained by brokers: counted whenever it comes
    await asyncio.sleep(0)
    probe.start()
    for second, (received, sent) in enumerate([(1000, 400), (1500, 900), (3000, 2400)]):
        await connector.publish(RECEIVED, str(received).encode())
        await connector.publish(SENT, sent)  # a JSON number, as the MQTT connector decodes it
        await connector.publish(CLIENTS, b"not a number")  # ignored
        await asyncio.sleep(1.0 if second < 2 else 0)
    await asyncio.sleep(0)
    await probe.stop()

    metrics = probe.result().metrics
    assert metrics["messages_in_per_s"] == pytest.approx(1000.0)  # 2,000 more in 2 s
    assert metrics["messages_out_per_s"] == pytest.approx(1000.0)
    assert metrics["clients_connected_max"] == 2
    assert metrics["sys_messages"] == 11
    assert "note" not in metrics
    await broker.aclose()


def test_without_two_samples_the_rates_are_none_and_a_note_says_why():
    metrics = BrokerProbe(LocalBusConnector(LocalBroker())).result().metrics
    assert metrics["messages_in_per_s"] is None
    assert metrics["note"] == "the broker published fewer than two $SYS totals during the run"
