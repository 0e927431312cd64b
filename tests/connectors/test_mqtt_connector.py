"""MqttConnector against a real mosquitto: routing, retained messages, standing filters,
statistics, connection loss and backpressure; plus its pure parts (URLs, payload codec).

The broker fixtures (tests/conftest.py) skip these tests, with the install command, where
mosquitto is missing. They run on the real clock: the broker is a real process.
"""

import asyncio
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest

import cascade as cs
from bench.broker import free_port
from cascade.connectors import Connector, Subscription
from cascade.connectors.mqtt import (
    MqttConnector,
    MqttStatistics,
    _Client,
    _transport_of,
    decode_payload,
    encode_payload,
    parse_url,
)

USE = "use mqtt://host:port"


# --- pure: URLs, arguments, payloads -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://localhost", ("localhost", 1883)),
        ("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884)),
        ("mqtt://Broker.Example:65535", ("broker.example", 65535)),
        ("mqtt://[::1]:1", ("::1", 1)),
    ],
)
def test_parse_url_splits_host_and_port(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://x", f"unsupported scheme 'http' in 'http://x': {USE}"),
        ("mqtts://x:8883", f"unsupported scheme 'mqtts' in 'mqtts://x:8883': {USE}"),
        ("127.0.0.1:1883", f"no scheme in '127.0.0.1:1883': {USE}"),
        ("mqtt://", f"missing host in 'mqtt://': {USE}"),
        ("mqtt://:1883", f"missing host in 'mqtt://:1883': {USE}"),
        ("mqtt://h:", f"empty port in 'mqtt://h:': {USE}"),
        ("mqtt://h:abc", "bad port in 'mqtt://h:abc': a port is a number from 1 to 65535"),
        ("mqtt://h:70000", "bad port in 'mqtt://h:70000': a port is a number from 1 to 65535"),
        ("mqtt://h:0", "bad port in 'mqtt://h:0': a port is a number from 1 to 65535"),
        ("mqtt://u:p@h", f"user part in 'mqtt://u:p@h' is not supported: {USE}"),
        ("mqtt://h/x", f"unexpected path '/x' in 'mqtt://h/x': {USE}"),
        ("mqtt://h:1883/", f"unexpected path '/' in 'mqtt://h:1883/': {USE}"),
        ("mqtt://h?x=1", f"unexpected query 'x=1' in 'mqtt://h?x=1': {USE}"),
    ],
)
def test_parse_url_names_the_problem(url, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_url(url)


def test_bad_arguments_fail_in_the_constructor_before_any_io():
    with pytest.raises(ValueError, match="unsupported scheme 'http'"):
        MqttConnector("http://x")
    with pytest.raises(ValueError, match="'#' must be the last level"):
        MqttConnector("mqtt://h", standing=["ok/+", "a/#/b"])
    with pytest.raises(TypeError, match="sequence of topic filters"):
        MqttConnector("mqtt://h", standing="a/+")
    with pytest.raises(ValueError, match="max_buffered_bytes"):
        MqttConnector("mqtt://h", max_buffered_bytes=0)
    with pytest.raises(ValueError, match="reconnect_delay"):
        MqttConnector("mqtt://h", reconnect_delay=0)
    with pytest.raises(ValueError, match="keepalive"):
        MqttConnector("mqtt://h", keepalive=-1)


@pytest.mark.parametrize(
    ("payload", "wire"),
    [
        (b"\x00raw", b"\x00raw"),
        (bytearray(b"ba"), b"ba"),
        (None, b""),
        (b"", b""),
        ("", b""),
        ("text", b'"text"'),
        (7, b"7"),
        ({"a": [1, 2.5, None]}, b'{"a":[1,2.5,null]}'),
        ((3, 1733400000.123), b"[3,1733400000.123]"),
    ],
)
def test_encode_sends_bytes_raw_and_the_rest_as_compact_json(payload, wire):
    assert encode_payload(payload) == wire


@pytest.mark.parametrize(
    ("wire", "payload"),
    [
        (b"", b""),
        (b'"text"', "text"),
        (b"[3,1.5]", [3, 1.5]),  # a tuple published arrives as a list
        (b'{"a":null}', {"a": None}),
        (b"not json", b"not json"),
        (b"\xff\xfe\x00", b"\xff\xfe\x00"),  # not even UTF-8
    ],
)
def test_decode_parses_json_and_falls_back_to_the_raw_bytes(wire, payload):
    assert decode_payload(wire) == payload


@pytest.mark.parametrize(
    "payload",
    [
        [123, 1733400000.123],
        {"b": {"nested": [1, 2.0, True, False, None]}, "a": 'é ∆ \n "q"'},
        "plain",
        -0.0,
        float("nan"),
        float("inf"),
        12345678901234567890,
        [[], {}, ""],
        (1, (2, 3)),
    ],
)
def test_the_encoder_writes_what_json_dumps_writes(payload):
    assert encode_payload(payload) == json.dumps(payload, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("wire", "payload"),
    [
        (b" [1, 2] ", [1, 2]),  # whitespace around the value: json.loads' rules
        (b"\n7", 7),
        (b"1 2", b"1 2"),
        (b"[1,2", b"[1,2"),
        (b"{}x", b"{}x"),
        (b"nope", b"nope"),
        (b"NaN", None),  # as json.loads: NaN (checked below, NaN != NaN)
    ],
)
def test_the_decoder_reads_what_json_loads_reads(wire, payload):
    decoded = decode_payload(wire)
    if payload is None:
        assert math.isnan(decoded)
    else:
        assert decoded == payload


def test_the_transport_accessor_fails_loudly_when_gmqtt_changes():
    assert _transport_of(_Client("never-connected")) is None
    with pytest.raises(RuntimeError, match=r"gmqtt \S+ changed its internals"):
        _transport_of(object())


# --- helpers -------------------------------------------------------------------------------------


class Inbox:
    """An async callback that records (topic, payload) and lets a test await the n-th one."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, object]] = []
        self._changed = asyncio.Event()

    async def __call__(self, topic: str, payload: object) -> None:
        self.messages.append((topic, payload))
        self._changed.set()

    @property
    def payloads(self) -> list[object]:
        return [payload for _, payload in self.messages]

    async def wait_for(self, count: int, timeout: float = 2.0) -> list[object]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.payloads


async def settle(seconds: float = 0.05) -> None:
    """Leave time for messages that should NOT arrive to arrive anyway."""
    await asyncio.sleep(seconds)


async def flushed(connector: MqttConnector) -> None:
    """Return once the broker has handled what `connector` sent: it answers each connection's
    packets in order, so a SUBSCRIBE acknowledged comes after the publishes sent before it.
    (Between two connections there is no order: without this, a retained message published
    on one may reach the broker after another's SUBSCRIBE, as a live message.)"""
    subscription = await connector.subscribe(f"flush/{uuid.uuid4().hex}", Inbox())
    await subscription.unsubscribe()


async def until(condition, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def prefix():
    """A topic prefix of the test's own, so tests sharing the session's broker never meet."""
    return f"test/{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def connect(mqtt_url):
    """Make connected connectors to the session's broker; disconnected after the test."""
    made = []

    async def make(**options) -> MqttConnector:
        connector = MqttConnector(options.pop("url", mqtt_url), **options)
        await connector.connect()
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.disconnect()


pytestmark = pytest.mark.looptime(False)


def test_importing_cascade_imports_no_mqtt_client():
    code = "import sys, cascade, cascade.connectors; sys.exit('gmqtt' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- round trips ---------------------------------------------------------------------------------


async def test_connect_publish_subscribe_round_trip(connect, prefix):
    connector = await connect()
    assert isinstance(connector, Connector)
    assert connector.is_connected
    inbox = Inbox()
    subscription = await connector.subscribe(f"{prefix}/a", inbox)
    assert isinstance(subscription, Subscription)
    assert subscription.topic_filter == f"{prefix}/a"

    assert await connector.publish(f"{prefix}/a", {"n": 1}) == 1
    assert await connector.publish(f"{prefix}/a", b"raw") == 1
    assert await connector.publish(f"{prefix}/a", (1, "two")) == 1
    assert await inbox.wait_for(3) == [{"n": 1}, b"raw", [1, "two"]]
    assert inbox.messages[0][0] == f"{prefix}/a"
    assert connector.statistics() == MqttStatistics(
        published=3,
        lost=0,
        received=3,
        delivered=3,
        unrouted=0,
        callback_errors=0,
        reconnects=0,
        disconnects=0,
        subscriptions=1,
        broker_filters=1,
    )


async def test_connect_and_disconnect_are_idempotent(connect, prefix):
    connector = await connect()
    await connector.connect()
    await connector.subscribe(f"{prefix}/x", Inbox())
    await connector.disconnect()
    await connector.disconnect()
    assert not connector.is_connected
    assert connector.statistics().subscriptions == 0
    assert connector.statistics().broker_filters == 0


async def test_exact_and_wildcard_filters_route_by_level(connect, prefix):
    sender, receiver = await connect(), await connect()
    exact, one_level, any_level = Inbox(), Inbox(), Inbox()
    await receiver.subscribe(f"{prefix}/kiln/temp", exact)
    await receiver.subscribe(f"{prefix}/+/temp", one_level)
    await receiver.subscribe(f"{prefix}/#", any_level)

    for topic, payload in [("kiln/temp", 1), ("kiln/core/temp", 2), ("oven/temp", 3)]:
        await sender.publish(f"{prefix}/{topic}", payload)
    await sender.publish(prefix, 4)  # 'x/#' matches 'x' itself
    assert await any_level.wait_for(4) == [1, 2, 3, 4]
    assert await one_level.wait_for(2) == [1, 3]
    assert await exact.wait_for(1) == [1]
    await settle()
    assert (exact.payloads, one_level.payloads) == ([1], [1, 3])


async def test_each_subscription_gets_its_messages_in_order(connect, prefix):
    connector = await connect()
    fast, slow_payloads = Inbox(), []

    async def slow(topic, payload):
        for _ in range(payload % 3):  # yield at irregular points
            await asyncio.sleep(0)
        slow_payloads.append(payload)

    await connector.subscribe(f"{prefix}/stream", fast)
    await connector.subscribe(f"{prefix}/#", slow)
    for n in range(1000):
        await connector.publish(f"{prefix}/stream", n)
    assert await fast.wait_for(1000) == list(range(1000))
    await until(lambda: len(slow_payloads) == 1000)
    assert slow_payloads == list(range(1000))


async def test_unsubscribe_stops_delivery_and_the_broker_subscription(connect, prefix):
    connector = await connect()
    inbox, other = Inbox(), Inbox()
    first = await connector.subscribe(f"{prefix}/t", inbox)
    second = await connector.subscribe(f"{prefix}/t", other)
    assert connector.statistics().broker_filters == 1  # reference-counted
    await connector.publish(f"{prefix}/t", 1)
    await inbox.wait_for(1)

    await first.unsubscribe()
    await first.unsubscribe()  # idempotent
    assert connector.statistics().broker_filters == 1  # `second` still holds it
    await connector.publish(f"{prefix}/t", 2)
    assert await other.wait_for(2) == [1, 2]
    await second.unsubscribe()
    assert connector.statistics().broker_filters == 0
    await connector.publish(f"{prefix}/t", 3)
    await settle()
    assert inbox.payloads == [1]
    assert other.payloads == [1, 2]


async def test_concurrent_first_subscriptions_share_one_broker_subscription(connect, prefix):
    sender, receiver = await connect(), await connect()
    inboxes = [Inbox(), Inbox()]
    await asyncio.gather(*(receiver.subscribe(f"{prefix}/c", inbox) for inbox in inboxes))
    assert receiver.statistics().broker_filters == 1
    await sender.publish(f"{prefix}/c", "both")  # both returned: both were acknowledged
    for inbox in inboxes:
        assert await inbox.wait_for(1) == ["both"]


# --- retained messages ---------------------------------------------------------------------------


async def test_retained_message_is_replayed_before_subscribe_returns(connect, prefix):
    sender, receiver = await connect(), await connect()
    await sender.publish(f"{prefix}/mode", "old", retain=True)
    await sender.publish(f"{prefix}/mode", "auto", retain=True)
    await sender.publish(f"{prefix}/other", "x", retain=True)
    await flushed(sender)
    try:
        inbox = Inbox()
        await receiver.subscribe(f"{prefix}/mode", inbox)
        for _ in range(5):  # queued already: its delivery task needs only a turn
            await asyncio.sleep(0)
        assert inbox.payloads == ["auto"]
        await sender.publish(f"{prefix}/mode", "live")
        assert await inbox.wait_for(2) == ["auto", "live"]

        wildcard = Inbox()
        await receiver.subscribe(f"{prefix}/+", wildcard)
        for _ in range(5):
            await asyncio.sleep(0)
        assert sorted(wildcard.payloads) == ["auto", "x"]  # "live" was not retained
    finally:
        for topic in ("mode", "other"):
            await sender.publish(f"{prefix}/{topic}", None, retain=True)


@pytest.mark.parametrize("empty", [None, b"", ""])
async def test_an_empty_retained_publish_clears_it(connect, prefix, empty):
    sender, receiver = await connect(), await connect()
    await sender.publish(f"{prefix}/door", b"open", retain=True)
    current = Inbox()
    await receiver.subscribe(f"{prefix}/door", current)
    await sender.publish(f"{prefix}/door", empty, retain=True)
    assert await current.wait_for(2) == [b"open", b""]  # every empty payload arrives as b""

    late = Inbox()
    await receiver.subscribe(f"{prefix}/door/#", late)
    await sender.publish(f"{prefix}/door", "sentinel")
    assert await late.wait_for(1) == ["sentinel"]  # a retained one would have come first


# --- standing filters ----------------------------------------------------------------------------


async def test_subscriptions_covered_by_a_standing_filter_send_no_subscribe(
    connect, prefix, monkeypatch
):
    sent = []
    original = _Client.subscribe
    monkeypatch.setattr(_Client, "subscribe", lambda c, s, **kw: sent.append(s) or original(c, s))
    zone = f"{prefix}/0/+/inbox"
    receiver = await connect(standing=[zone, f"{prefix}/flash"])
    sender = await connect()
    assert [[s.topic for s in subscriptions] for subscriptions in sent] == [
        [zone, f"{prefix}/flash"]  # one SUBSCRIBE packet for the standing filters
    ]
    sent.clear()

    inboxes = [Inbox() for _ in range(1000)]
    subscriptions = [
        await receiver.subscribe(f"{prefix}/0/{n}/inbox", inbox) for n, inbox in enumerate(inboxes)
    ]
    await receiver.subscribe(zone, Inbox())  # a wildcard equal to a standing filter
    assert sent == []
    assert receiver.statistics().broker_filters == 2
    assert receiver.statistics().subscriptions == 1001

    for n in (0, 500, 999):
        await sender.publish(f"{prefix}/0/{n}/inbox", n)
    for n in (0, 500, 999):
        assert await inboxes[n].wait_for(1) == [n]
    for subscription in subscriptions:
        await subscription.unsubscribe()
    assert receiver.statistics().broker_filters == 2

    await receiver.subscribe(f"{prefix}/1/7/inbox", Inbox())  # another zone: not covered
    assert [[s.topic for s in subscriptions] for subscriptions in sent] == [[f"{prefix}/1/7/inbox"]]
    assert receiver.statistics().broker_filters == 3


async def test_a_covered_subscription_gets_no_retained_replay(connect, prefix):
    sender = await connect()
    await sender.publish(f"{prefix}/0/1/inbox", "retained", retain=True)
    await flushed(sender)
    try:
        receiver = await connect(standing=[f"{prefix}/0/+/inbox"])
        inbox = Inbox()
        await receiver.subscribe(f"{prefix}/0/1/inbox", inbox)
        await sender.publish(f"{prefix}/0/1/inbox", "live")
        assert await inbox.wait_for(1) == ["live"]
        # The broker replayed it at connect, to the standing filter: nobody listened yet.
        assert receiver.statistics().unrouted == 1
    finally:
        await sender.publish(f"{prefix}/0/1/inbox", None, retain=True)


async def test_messages_no_local_subscription_wants_are_counted_unrouted(connect, prefix):
    receiver = await connect(standing=[f"{prefix}/+/inbox"])
    sender = await connect()
    inbox = Inbox()
    await receiver.subscribe(f"{prefix}/1/inbox", inbox)
    for agent in (1, 2, 3, 1):
        assert await sender.publish(f"{prefix}/{agent}/inbox", agent) == 1  # always 1: QoS 0
    await inbox.wait_for(2)
    await until(lambda: receiver.statistics().received == 4)
    stats = receiver.statistics()
    assert (stats.received, stats.delivered, stats.unrouted) == (4, 2, 2)


async def test_a_failing_callback_is_logged_counted_and_others_still_served(
    connect, prefix, caplog
):
    connector = await connect()
    flaky_payloads, steady = [], Inbox()

    async def flaky(topic, payload):
        if payload == "boom":
            raise RuntimeError("callback exploded")
        flaky_payloads.append(payload)

    await connector.subscribe(f"{prefix}/jobs/+", flaky)
    await connector.subscribe(f"{prefix}/jobs/#", steady)
    with caplog.at_level(logging.ERROR, logger="cascade.connectors.mqtt"):
        for payload in ["a", "boom", "c"]:
            await connector.publish(f"{prefix}/jobs/7", payload)
        assert await steady.wait_for(3) == ["a", "boom", "c"]
        await until(lambda: len(flaky_payloads) == 2)
    assert flaky_payloads == ["a", "c"]
    stats = connector.statistics()
    assert (stats.delivered, stats.callback_errors) == (5, 1)
    (record,) = [r for r in caplog.records if r.name == "cascade.connectors.mqtt"]
    assert f"'{prefix}/jobs/+'" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


# --- not connected, unreachable ------------------------------------------------------------------


@pytest.mark.parametrize("when", ["before connect", "after disconnect"])
async def test_publish_and_subscribe_need_a_connection(mqtt_url, when):
    connector = MqttConnector(mqtt_url)
    if when == "after disconnect":
        await connector.connect()
        await connector.disconnect()
    message = (
        f"MqttConnector is not connected to {mqtt_url}: call 'await connector.connect()' first"
    )
    with pytest.raises(ConnectionError, match=f"^{re.escape(message)}$"):
        await connector.publish("a/b", 1)
    with pytest.raises(ConnectionError, match=f"^{re.escape(message)}$"):
        await connector.subscribe("a/+", Inbox())
    assert connector.statistics().lost == 0


async def test_topics_and_filters_are_validated(connect):
    connector = await connect()
    with pytest.raises(ValueError, match="wildcards are only allowed in subscriptions"):
        await connector.publish("a/+", 1)
    with pytest.raises(ValueError, match="'#' must be the last level"):
        await connector.subscribe("a/#/b", Inbox())
    with pytest.raises(TypeError, match="callback must be an async callable"):
        await connector.subscribe("a/b", None)


async def test_an_unreachable_broker_is_a_connection_error_naming_the_url():
    url = f"mqtt://127.0.0.1:{free_port()}"
    connector = MqttConnector(url)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ConnectionError, match=f"^cannot connect to the MQTT broker at {url}: "):
        await connector.connect()
    assert loop.time() - started < 1  # tried once, not retried
    assert not connector.is_connected
    with pytest.raises(ConnectionError, match=re.escape("call 'await connector.connect()' first")):
        await connector.publish("a", 1)


# --- connection loss -----------------------------------------------------------------------------


async def test_a_killed_broker_loses_publishes_then_everything_resumes(mosquitto, prefix):
    receiver = MqttConnector(mosquitto.url, standing=[f"{prefix}/+/inbox"], reconnect_delay=0.05)
    sender = MqttConnector(mosquitto.url, reconnect_delay=0.05)
    changes: list[bool] = []
    receiver.on_connection_change(changes.append)
    await receiver.connect()
    await sender.connect()
    try:
        covered, counted, added_while_down = Inbox(), Inbox(), Inbox()
        await receiver.subscribe(f"{prefix}/1/inbox", covered)
        await receiver.subscribe(f"{prefix}/flash", counted)
        await sender.publish(f"{prefix}/1/inbox", "before")
        await covered.wait_for(1)

        mosquitto.kill()
        await until(lambda: changes == [False] and not sender.is_connected)
        assert not receiver.is_connected
        for n in range(5):
            assert await sender.publish(f"{prefix}/1/inbox", n) == 0  # never raises
        assert sender.statistics().lost == 5
        await receiver.subscribe(f"{prefix}/late", added_while_down)  # subscribed on reconnect

        mosquitto.start()
        await until(lambda: changes == [False, True] and sender.is_connected)
        await sender.publish(f"{prefix}/1/inbox", "after")
        await sender.publish(f"{prefix}/flash", "after")
        await sender.publish(f"{prefix}/late", "after")
        assert await covered.wait_for(2) == ["before", "after"]
        assert await counted.wait_for(1) == ["after"]
        assert await added_while_down.wait_for(1) == ["after"]
        stats = receiver.statistics()
        assert (stats.disconnects, stats.reconnects, stats.broker_filters) == (1, 1, 3)
    finally:
        await receiver.disconnect()
        await sender.disconnect()


async def test_disconnect_while_reconnecting_stops_it(mosquitto):
    connector = MqttConnector(mosquitto.url, reconnect_delay=0.05)
    await connector.connect()
    before = asyncio.all_tasks()
    mosquitto.kill()
    await until(lambda: not connector.is_connected)
    await asyncio.sleep(0.2)  # a few failed attempts
    await connector.disconnect()
    assert asyncio.all_tasks() <= before
    stats = connector.statistics()
    assert (stats.disconnects, stats.reconnects) == (1, 0)


async def test_publish_waits_while_too_much_is_buffered(mosquitto):
    connector = MqttConnector(mosquitto.url, max_buffered_bytes=1 << 16)
    await connector.connect()
    transport = _transport_of(connector._client)
    assert transport is connector._transport  # the accessor still finds gmqtt's transport
    payload = bytes(1 << 18)
    os.kill(mosquitto.pid, signal.SIGSTOP)  # the broker stops reading; the socket fills up
    try:
        blocked = None
        for n in range(400):  # the kernel's buffers first, then the transport's
            publishing = asyncio.ensure_future(connector.publish("bulk", payload))
            await asyncio.sleep(0.001 if n % 20 == 0 else 0)
            if not publishing.done():
                blocked = publishing
                break
            assert publishing.result() == 1
        assert blocked is not None, "publish never waited"
        assert transport.get_write_buffer_size() > 1 << 16
        await asyncio.sleep(0.05)
        assert not blocked.done()
        os.kill(mosquitto.pid, signal.SIGCONT)
        assert await asyncio.wait_for(blocked, 5) == 1  # drained below half: written
        stats = connector.statistics()
        assert (stats.published, stats.lost) == (n + 1, 0)
    finally:
        os.kill(mosquitto.pid, signal.SIGCONT)
        await connector.disconnect()


async def test_a_burst_of_publishes_goes_out_in_one_write_per_loop_pass(connect, prefix):
    connector = await connect()
    inbox = Inbox()
    await connector.subscribe(f"{prefix}/+", inbox)
    transport = _transport_of(connector._client)
    writes = []
    real_write = transport.write
    transport.write = lambda data: (writes.append(len(data)), real_write(data))[1]
    try:
        for n in range(100):
            assert await connector.publish(f"{prefix}/{n}", n) == 1
        assert writes == []  # nothing written before the loop's next pass
        assert await inbox.wait_for(100) == list(range(100))
    finally:
        del transport.write
    assert len(writes) == 1
    assert connector.statistics().published == 100


async def test_publishes_of_a_pass_the_connection_cannot_take_are_counted_lost(connect, prefix):
    connector = await connect()
    for n in range(5):
        await connector.publish(f"{prefix}/{n}", n)
    _transport_of(connector._client).abort()  # the connection dies before the pass ends
    await asyncio.sleep(0)
    assert (connector.statistics().published, connector.statistics().lost) == (0, 5)


# --- the engine over MQTT -------------------------------------------------------------------------


async def test_a_retained_pause_constraint_reaches_an_engine_over_mqtt(connect, mqtt_url, prefix):
    topic = f"cascade/constraints/{prefix.replace('/', '-')}"
    control = await connect()
    ran = []

    @cs.task
    def slow():
        ran.append("slow")
        return "done"

    connector = MqttConnector(mqtt_url)
    engine = cs.Engine(connector=connector)
    await control.publish(topic, {"type": "pause", "scope": "task:slow"}, retain=True)
    await flushed(control)
    try:
        run = asyncio.create_task(engine.run(slow()))
        await settle(0.3)
        assert ran == []
        assert engine.constraint_manager.active
        await control.publish(topic, None, retain=True)
        assert await asyncio.wait_for(run, 2) == "done"
    finally:
        await control.publish(topic, None, retain=True)
    assert ran == ["slow"]
    assert not connector.is_connected  # the engine's run ended: it let the connection go
    assert connector.statistics().subscriptions == 0
