"""Messages per second through a real mosquitto: `MqttConnector` against bare MQTT clients.

Each measured call publishes `MESSAGES` QoS-0 messages to `firefly/0/<agent>/inbox` (agents
taken in turn from `AGENTS`) and ends when all of them have been received, so a median is
publish, broker, receive and delivery together; "median per operation" is per message.

- `gmqtt`: the bare client the connector is built on: one client publishes pre-encoded
  ~32-byte payloads, another, subscribed to `firefly/0/+/inbox`, counts them.
- `connector`: the workload's usage: ONE connector with the standing filter
  `firefly/0/+/inbox` publishes `[agent, 1733400000.123]` (JSON) while one local exact
  subscription per agent listens; it ends when every callback has run.
- `paho`, `aiomqtt`: `gmqtt`'s measurement with those clients, for the record (they are no
  dependency of the project: skipped where they are not installed).

Needs mosquitto (skipped, with the install command, where it is missing).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv311
from pytest_benchmark.fixture import BenchmarkFixture

from bench.broker import INSTALL_HINT, Mosquitto, mosquitto_path
from bench.errors import BenchError
from bench.micro.batching import Measure
from cascade.connectors.mqtt import MqttConnector, parse_url

MESSAGES = 10_000
"""Messages per measured call."""
AGENTS = 1000
"""Inbox topics the messages go to, in turn; the connector has a subscription on each."""
ZONE_FILTER = "firefly/0/+/inbox"
TOPICS = [f"firefly/0/{agent}/inbox" for agent in range(AGENTS)]
RAW_PAYLOAD = b"[123,1733400000.123]".ljust(32)
"""The bare clients' payload: what the connector sends, pre-encoded, padded to 32 bytes."""
TIMEOUT_S = 60.0
"""A measured call that has not received everything by then fails: messages were lost."""


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    """A mosquitto for this module's benchmarks."""
    try:
        mosquitto_path()
    except BenchError:
        pytest.skip(f"mosquitto is not installed: {INSTALL_HINT}")
    with Mosquitto() as broker:
        yield broker.url


class Countdown:
    """Counts received messages; `expect(n)` is a future done once n more have arrived."""

    def __init__(self) -> None:
        self.count = 0
        self._target = -1
        self._done: asyncio.Future[None] | None = None

    def expect(self, messages: int) -> asyncio.Future[None]:
        self._done = asyncio.get_running_loop().create_future()
        self._target = self.count + messages
        return self._done

    def tick(self) -> None:
        self.count += 1
        if self.count == self._target and self._done is not None:
            self._done.set_result(None)

    async def callback(self, topic: str, payload: Any) -> None:
        """An `MqttConnector` subscription's callback."""
        self.tick()


@pytest.mark.benchmark(group="mqtt")
def test_mqtt_gmqtt(measure: Measure, loop: asyncio.AbstractEventLoop, broker_url: str) -> None:
    """Bare gmqtt: a publishing client and a wildcard-subscribed one counting the messages."""
    host, port = parse_url(broker_url)
    counter = Countdown()

    def on_message(client: Any, topic: str, payload: bytes, qos: int, properties: Any) -> None:
        counter.tick()

    async def start() -> tuple[Any, Any]:
        subscriber, publisher = gmqtt.Client("bench-gmqtt-sub"), gmqtt.Client("bench-gmqtt-pub")
        subscriber.on_message = on_message
        subscribed = loop.create_future()
        subscriber.on_subscribe = lambda *_: subscribed.set_result(None)
        for client in (subscriber, publisher):
            await client.connect(host, port, version=MQTTv311)
        subscriber.subscribe(ZONE_FILTER, qos=0)
        await subscribed
        return subscriber, publisher

    subscriber, publisher = loop.run_until_complete(start())

    async def batch() -> None:
        done = counter.expect(MESSAGES)
        for n in range(MESSAGES):
            publisher.publish(TOPICS[n % AGENTS], RAW_PAYLOAD, qos=0)
        async with asyncio.timeout(TIMEOUT_S):
            await done

    try:
        measure(batch, MESSAGES)
    finally:
        for client in (subscriber, publisher):
            loop.run_until_complete(client.disconnect())


@pytest.mark.benchmark(group="mqtt")
def test_mqtt_connector(measure: Measure, loop: asyncio.AbstractEventLoop, broker_url: str) -> None:
    """MqttConnector: one connection, a standing zone filter, an exact subscription per agent."""
    counter = Countdown()
    connector = MqttConnector(broker_url, standing=[ZONE_FILTER], client_id="bench-connector")

    async def start() -> None:
        await connector.connect()
        for topic in TOPICS:
            await connector.subscribe(topic, counter.callback)

    loop.run_until_complete(start())

    async def batch() -> None:
        done = counter.expect(MESSAGES)
        for n in range(MESSAGES):
            await connector.publish(TOPICS[n % AGENTS], [n % AGENTS, 1733400000.123])
        async with asyncio.timeout(TIMEOUT_S):
            await done

    try:
        measure(batch, MESSAGES)
    finally:
        loop.run_until_complete(connector.disconnect())
    stats = connector.statistics()
    assert stats.lost == stats.unrouted == stats.callback_errors == 0, stats


@pytest.mark.benchmark(group="mqtt")
def test_mqtt_paho(benchmark: BenchmarkFixture, broker_url: str) -> None:
    """paho-mqtt (threaded network loops): the same measurement as bare gmqtt's."""
    mqtt = pytest.importorskip("paho.mqtt.client")
    host, port = parse_url(broker_url)
    received = 0
    target = -1
    done, subscribed = threading.Event(), threading.Event()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        nonlocal received
        received += 1  # only the subscriber's network thread counts
        if received == target:
            done.set()

    def make(name: str) -> Any:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311
        )
        client.connect(host, port)
        client.loop_start()
        return client

    subscriber = make("bench-paho-sub")
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *_: subscribed.set()
    publisher = make("bench-paho-pub")
    try:
        subscriber.subscribe(ZONE_FILTER, qos=0)
        assert subscribed.wait(10), "no SUBACK"

        def batch() -> None:
            nonlocal target
            done.clear()
            target = received + MESSAGES
            for n in range(MESSAGES):
                publisher.publish(TOPICS[n % AGENTS], RAW_PAYLOAD, qos=0)
            assert done.wait(TIMEOUT_S), f"received {received} of {target}"

        benchmark.extra_info["ops_per_call"] = MESSAGES
        benchmark(batch)
    finally:
        for client in (subscriber, publisher):
            client.disconnect()
            client.loop_stop()


@pytest.mark.benchmark(group="mqtt")
def test_mqtt_aiomqtt(measure: Measure, loop: asyncio.AbstractEventLoop, broker_url: str) -> None:
    """aiomqtt (asyncio over paho-mqtt): the same measurement as bare gmqtt's."""
    aiomqtt = pytest.importorskip("aiomqtt")
    host, port = parse_url(broker_url)
    counter = Countdown()

    clients: list[Any] = []  # made on the loop: aiomqtt's constructor needs it running

    async def consume(subscriber: Any) -> None:
        async for _ in subscriber.messages:
            counter.tick()

    async def start() -> asyncio.Task[None]:
        for name in ("bench-aiomqtt-sub", "bench-aiomqtt-pub"):
            client = aiomqtt.Client(
                host, port, identifier=name, protocol=aiomqtt.ProtocolVersion.V311
            )
            await client.__aenter__()
            clients.append(client)
        await clients[0].subscribe(ZONE_FILTER, qos=0)
        return asyncio.create_task(consume(clients[0]))

    consumer = loop.run_until_complete(start())
    publisher = clients[1]

    async def batch() -> None:
        done = counter.expect(MESSAGES)
        for n in range(MESSAGES):
            await publisher.publish(TOPICS[n % AGENTS], RAW_PAYLOAD, qos=0)
        async with asyncio.timeout(TIMEOUT_S):
            await done

    async def stop() -> None:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        for client in clients:
            await client.__aexit__(None, None, None)

    try:
        measure(batch, MESSAGES)
    finally:
        loop.run_until_complete(stop())
