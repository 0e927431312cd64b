"""The Connector contract over a real MQTT broker: one connection (gmqtt) for many subscribers.

One ``MqttConnector`` is one TCP connection, MQTT 3.1.1, QoS 0, clean session, however
many local subscriptions it carries: thousands of agents in a process share it. Incoming
messages are routed locally, like ``LocalBroker`` does (a dict lookup for exact filters,
a ``TopicTrie`` walk for wildcards, each subscription's own FIFO and delivery task).

Broker subscriptions. ``standing`` filters are subscribed once per connection, in one
SUBSCRIBE packet. A local subscription *covered* by one (an exact filter it matches, or a
wildcard filter equal to it) costs no round trip at all, which is how 5,000 agents can
subscribe to their inboxes every cycle; the price is that covered subscriptions get no
retained messages (a broker replays those only in answer to a SUBSCRIBE). Any other filter
is subscribed on the broker, reference-counted: its first local subscription waits for the
broker's acknowledgement (and the retained messages it replays), its last unsubscribe sends
UNSUBSCRIBE. Later local subscriptions of an already subscribed filter get no replay either.

Payloads. ``bytes``/``bytearray`` travel raw, anything else as compact JSON (so a tuple
arrives as a list); ``None``, ``b""`` and ``""`` are MQTT's zero-length payload (published
retained, it clears the retained message). Received: a zero-length payload is ``b""``,
anything else is parsed as JSON, or handed over as raw bytes if it is not JSON (raw bytes
that happen to be valid JSON arrive parsed). Subscriptions matching one message share the
decoded object.

Publishing. ``publish`` appends the PUBLISH packet to an outbox that is written to the
connection once per pass of the event loop, in one write (no task, no queue per message):
a burst of publishes costs one system call, not one each. It waits only while more than
``max_buffered_bytes`` wait to be sent (outbox and socket buffer), until half of that is
left. It returns 1 once the message is on its way: a QoS 0 publisher is never told who
received it, so the connector cannot return how many subscriptions it reached; receivers
count the messages nobody subscribed to as ``unrouted``.

Connection loss. Publishes while the connection is down are dropped and counted ``lost``
(never raised: agents keep running); the connector reconnects every ``reconnect_delay``
seconds, re-subscribes its standing and reference-counted filters, and tells the listeners
given to ``on_connection_change``. Messages written just before a loss is noticed are gone
without a trace: TCP does not say which of them the broker read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import json.encoder
import json.scanner
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from cascade.connectors.base import MessageCallback, Subscription
from cascade.connectors.delivery import DeliveryCounters, QueuedSubscription
from cascade.connectors.topics import is_wildcard, validate_topic, validate_topic_filter
from cascade.connectors.trie import TopicTrie

_log = logging.getLogger("cascade.connectors.mqtt")

DEFAULT_PORT = 1883
ACK_TIMEOUT_S = 10.0
"""How long to wait for the broker's CONNACK or SUBACK before giving up on it."""
_DRAIN_POLL_S = 0.001
_SUBACK_FAILURE = 0x80
_PUBLISH, _PUBLISH_RETAIN = 0x30, 0x31  # packet type 3, QoS 0, DUP 0, RETAIN 0 or 1
_MAX_REMAINING_LENGTH = 268_435_455


_Acks = tuple["asyncio.Future[tuple[int, ...]]", "asyncio.Future[tuple[int, ...]]"]
"""The SUBACK and barrier UNSUBACK a SUBSCRIBE waits for."""


# --- URL and payloads ---------------------------------------------------------------------------


def parse_url(url: str) -> tuple[str, int]:
    """'mqtt://host[:port]' -> (host, port), port default 1883; ValueError naming the problem."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt":
        scheme = f"unsupported scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ValueError(f"{scheme} in {url!r}: use mqtt://host:port")
    if "@" in parts.netloc:
        raise ValueError(f"user part in {url!r} is not supported: use mqtt://host:port")
    for name, value in (("path", parts.path), ("query", parts.query), ("fragment", parts.fragment)):
        if value:
            raise ValueError(f"unexpected {name} {value!r} in {url!r}: use mqtt://host:port")
    if not parts.hostname:
        raise ValueError(f"missing host in {url!r}: use mqtt://host:port")
    if parts.netloc.endswith(":"):
        raise ValueError(f"empty port in {url!r}: use mqtt://host:port")
    try:
        port = parts.port  # ValueError if not a number or above 65535
    except ValueError:
        port = 0
    if port is None:
        return parts.hostname, DEFAULT_PORT
    if port == 0:
        raise ValueError(f"bad port in {url!r}: a port is a number from 1 to 65535")
    return parts.hostname, port


def _compact_json_encoder() -> Callable[[Any], str]:
    """``json.dumps(payload, separators=(",", ":"), check_circular=False)``, made cheaper.

    ``json.dumps`` builds a new encoder on every call that passes options, and
    ``JSONEncoder.encode`` a new C encoder on every call: here the C one is built once.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), check_circular=False)
    make_c_encoder = getattr(json.encoder, "c_make_encoder", None)  # typeshed omits it
    if make_c_encoder is None:  # a Python without json's C accelerator
        return encoder.encode
    # The arguments JSONEncoder.iterencode passes it; markers=None as check_circular=False.
    c_encoder = make_c_encoder(
        None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, True,
    )  # fmt: skip
    return lambda payload: "".join(c_encoder(payload, 0))


_encode_json = _compact_json_encoder()
# typeshed wants the scanner's own type for its context: any JSONDecoder is one.
_scan_json = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
"""The scanner json.loads runs (the C one if there is one), without json.loads' set-up."""


def encode_payload(payload: Any) -> bytes:
    """The bytes to publish: bytes as they are, the empty payloads as b"", the rest as JSON."""
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)  # bytes(a_bytes) is that same object
    if payload is None or (isinstance(payload, str) and not payload):
        return b""
    return _encode_json(payload).encode()


def decode_payload(data: bytes) -> Any:
    """A received payload: b"" when empty, else its JSON value, else the raw bytes."""
    if not data:
        return b""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return data
    try:
        value, end = _scan_json(text, 0)
        if end == len(text):
            return value
    except (ValueError, StopIteration):  # not JSON, or not at the first character
        pass
    try:
        return json.loads(text)  # whitespace around the value, or not JSON at all
    except ValueError:
        return data


def append_publish_packet(out: bytearray, topic: str, payload: bytes, retain: bool) -> None:
    """Append an MQTT 3.1.1 PUBLISH packet at QoS 0 (section 3.3) to `out`: header, topic,
    payload.

    Built here rather than by gmqtt, whose general-purpose path (message object, MQTT 5
    properties, debug logging) costs several times more per message.
    """
    encoded_topic = topic.encode()
    remaining = 2 + len(encoded_topic) + len(payload)
    if len(encoded_topic) > 0xFFFF or remaining > _MAX_REMAINING_LENGTH:
        raise ValueError(f"MQTT cannot carry this message on {topic!r}: topic or payload too long")
    out.append(_PUBLISH_RETAIN if retain else _PUBLISH)
    while remaining > 0x7F:  # the remaining length: 7 bits a byte, low bits first
        out.append(remaining & 0x7F | 0x80)
        remaining >>= 7
    out.append(remaining)
    out += len(encoded_topic).to_bytes(2, "big")
    out += encoded_topic
    out += payload


# --- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MqttStatistics:
    """A snapshot of a connector's counters, for tests, measurements and health checks."""

    published: int  # messages handed to the broker
    lost: int  # publishes dropped because the connection was down (never silent)
    received: int  # PUBLISH packets received from the broker
    delivered: int  # callback invocations that completed
    unrouted: int  # received messages that matched no local subscription
    callback_errors: int
    reconnects: int  # successful reconnections after a loss
    disconnects: int  # connection losses not asked for
    subscriptions: int  # local subscriptions
    broker_filters: int  # filters subscribed on the broker


@dataclass(slots=True)
class _Counters(DeliveryCounters):
    # Shared by the connector and its subscriptions, which do the delivery counting.
    published: int = 0
    lost: int = 0
    received: int = 0
    unrouted: int = 0
    reconnects: int = 0
    disconnects: int = 0


class _ConnectionClosed(ConnectionError):
    """The connection closed before the broker answered (not a refusal)."""


# --- gmqtt --------------------------------------------------------------------------------------


class _Client(gmqtt.Client):
    """gmqtt's client minus its own reconnecting, which the connector does instead.

    gmqtt reconnects with ``clean_session=False`` and re-subscribes nothing; the connector
    reconnects with a clean session, as a new client, and re-subscribes its filters itself.
    """

    async def reconnect(self, delay: bool = False) -> None:
        """Do nothing: gmqtt calls this after every loss and refusal."""


def _transport_of(client: Any) -> asyncio.Transport | None:
    """The asyncio transport of a gmqtt client's TCP connection; None before it has one.

    gmqtt has no public accessor for it: this is the connector's one reach into gmqtt's
    internals (``Client._connection._transport``), to write PUBLISH packets, to bound the
    bytes waiting to be sent (``get_write_buffer_size()``) and to drop a half-made
    connection. The MQTT connector's tests check it, so that a gmqtt upgrade that moves it
    fails loudly there.
    """
    try:
        connection = client._connection
        transport = None if connection is None else connection._transport
    except AttributeError as error:
        raise RuntimeError(
            f"gmqtt {gmqtt.__version__} changed its internals ({error}): "
            "update cascade.connectors.mqtt._transport_of"
        ) from None
    if transport is not None and not callable(getattr(transport, "get_write_buffer_size", None)):
        raise RuntimeError(f"gmqtt's connection transport is not an asyncio one: {transport!r}")
    return transport


# --- connector ----------------------------------------------------------------------------------


class MqttConnector:
    """A ``Connector`` over one MQTT 3.1.1 connection, multiplexing many local subscriptions.

    See the module's docstring for the broker subscriptions, the payload format and what
    happens when the connection drops.
    """

    def __init__(
        self,
        url: str,
        *,
        standing: Sequence[str] = (),
        client_id: str | None = None,
        max_buffered_bytes: int = 1 << 20,
        reconnect_delay: float = 0.5,
        keepalive: int = 60,
    ) -> None:
        self._url = url
        self._host, self._port = parse_url(url)
        if isinstance(standing, str):
            raise TypeError(f"standing must be a sequence of topic filters, not {standing!r}")
        self._standing = tuple(dict.fromkeys(standing))
        self._standing_trie: TopicTrie[str] = TopicTrie()
        for topic_filter in self._standing:
            self._standing_trie.add(topic_filter, topic_filter)  # validates it
        if max_buffered_bytes < 1:
            raise ValueError(f"max_buffered_bytes must be at least 1, got {max_buffered_bytes}")
        if not reconnect_delay > 0:
            raise ValueError(f"reconnect_delay must be above 0 seconds, got {reconnect_delay}")
        if not 0 <= keepalive <= 65535:
            raise ValueError(f"keepalive must be 0 (off) to 65535 seconds, got {keepalive}")
        # 23 characters: the longest client id every MQTT 3.1.1 broker must accept.
        self._client_id = client_id or f"cascade-{uuid.uuid4().hex[:15]}"
        self._max_buffered = max_buffered_bytes
        self._reconnect_delay = reconnect_delay
        self._keepalive = keepalive
        self._barrier = f"cascade/connector-barrier/{self._client_id}"
        self._not_connected = (
            f"MqttConnector is not connected to {url}: call 'await connector.connect()' first"
        )

        self._counters = _Counters()
        self._exact: dict[str, list[QueuedSubscription]] = {}
        self._wildcard: TopicTrie[QueuedSubscription] = TopicTrie()
        self._broker_refs: dict[str, int] = {}  # filters subscribed on the broker, not standing
        self._subscribing: dict[str, asyncio.Task[None]] = {}  # their SUBSCRIBEs in flight
        self._acks: dict[int, asyncio.Future[tuple[int, ...]]] = {}  # by packet id
        self._listeners: list[Callable[[bool], None]] = []

        self._active = False  # between connect() and disconnect()
        self._client: Any = None  # the gmqtt client of the current connection or attempt
        self._transport: asyncio.Transport | None = None  # set while connected, only then
        self._reconnector: asyncio.Task[None] | None = None
        self._drain_poller: asyncio.Task[None] | None = None
        self._outbox = bytearray()  # PUBLISH packets of this loop pass, written by _flush
        self._outbox_messages = 0
        self._flush_handle: asyncio.Handle | None = None

    @property
    def url(self) -> str:
        """The broker's URL, as given."""
        return self._url

    @property
    def is_connected(self) -> bool:
        """Tell whether the connection is up (and its broker filters subscribed)."""
        return self._transport is not None

    # --- connecting ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and subscribe the standing filters; ConnectionError if the broker is not there.

        Tried once: reconnecting is only for a connection lost later. Idempotent.
        """
        if self._active:
            return
        try:
            await self._open()
        except (OSError, gmqtt.MQTTConnectError) as error:  # ConnectionError, TimeoutError too
            message = f"cannot connect to the MQTT broker at {self._url}: {error}"
            raise ConnectionError(message) from error
        self._active = True

    async def disconnect(self) -> None:
        """Stop reconnecting, unsubscribe every local subscription, close; idempotent."""
        if not self._active:
            return
        self._active = False
        reconnector, self._reconnector = self._reconnector, None
        if reconnector is not None:
            reconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconnector
        if self._flush_handle is not None:  # what was published before goes out first
            self._flush_handle.cancel()
            self._flush()
        client, self._client, self._transport = self._client, None, None
        self._fail_acks()
        for subscription in self._all_subscriptions():
            await subscription.unsubscribe()  # not connected any more: no UNSUBSCRIBE sent
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
            # gmqtt answers the close with a task calling _Client.reconnect (which does
            # nothing): one turn of the loop lets it end, so none outlives disconnect().
            await asyncio.sleep(0)

    def on_connection_change(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(False)`` when the connection is lost, ``listener(True)`` once back."""
        self._listeners.append(listener)

    async def _open(self) -> None:
        """Connect a new client and subscribe the broker filters; all or nothing."""
        client = _Client(self._client_id, clean_session=True)
        client.on_message = self._on_message
        client.on_subscribe = self._on_ack
        client.on_unsubscribe = self._on_ack
        client.on_disconnect = self._on_disconnect
        self._client = client
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                await client.connect(
                    self._host, self._port, keepalive=self._keepalive, version=MQTTv311
                )
            subscribed: set[str] = set()
            # One SUBSCRIBE for every filter; another for those subscribe() added meanwhile.
            while filters := self._broker_filters_but(subscribed):
                await self._subscribed_on_broker(filters, self._send_subscribe(client, filters))
                subscribed.update(filters)
            for dropped in subscribed.difference(self._standing, self._broker_refs):
                client.unsubscribe(dropped)  # its last subscription went meanwhile
            transport = _transport_of(client)
            if transport is None or transport.is_closing():
                raise ConnectionError(f"the connection to {self._url} closed while opening")
        except BaseException:
            self._abandon(client)
            raise
        self._transport = transport

    def _broker_filters_but(self, subscribed: set[str]) -> list[str]:
        return [f for f in (*self._standing, *self._broker_refs) if f not in subscribed]

    def _abandon(self, client: Any) -> None:
        """Forget a client whose connection failed half-way, closing its socket if open."""
        if self._client is client:
            self._client = None
            self._fail_acks()
        transport = _transport_of(client)
        if transport is not None and not transport.is_closing():
            transport.close()

    def _on_disconnect(self, client: Any, packet: Any, exc: Any = None) -> None:
        # gmqtt calls this when a connection closes, whether asked for or not.
        if client is not self._client:
            return  # disconnect() or _abandon() let go of it first: asked for
        self._fail_acks()
        if self._transport is None:
            return  # lost while opening: _open() fails and says so
        self._client, self._transport = None, None
        self._counters.disconnects += 1
        _log.warning(
            "lost the connection to %s; reconnecting every %s s", self._url, self._reconnect_delay
        )
        self._reconnector = asyncio.get_running_loop().create_task(
            self._reconnect(), name=f"cascade-mqtt-reconnect:{self._url}"
        )
        self._tell(False)

    async def _reconnect(self) -> None:
        while self._active:
            await asyncio.sleep(self._reconnect_delay)
            try:
                await self._open()
            except (OSError, gmqtt.MQTTConnectError) as error:
                _log.debug("reconnecting to %s failed: %s", self._url, error)
                continue
            except Exception:
                _log.exception("reconnecting to %s failed unexpectedly; trying again", self._url)
                continue
            self._reconnector = None
            self._counters.reconnects += 1
            _log.info("reconnected to %s", self._url)
            self._tell(True)
            return

    def _tell(self, connected: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(connected)
            except Exception:
                _log.exception("connection listener %r failed", listener)

    # --- publishing ------------------------------------------------------------------------------

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> int:
        """Send a message (QoS 0); 1 once handed to the broker, 0 if lost to a connection loss.

        Which subscriptions got it is not knowable here (see the module's docstring). Waits
        while more than ``max_buffered_bytes`` are waiting to be sent.
        """
        validate_topic(topic)
        transport = self._transport
        if (
            transport is None
            or transport.get_write_buffer_size() + len(self._outbox) > self._max_buffered
            or transport.is_closing()
        ):
            transport = await self._writable_transport()
            if transport is None:
                return 0
        append_publish_packet(self._outbox, topic, encode_payload(payload), retain)
        self._outbox_messages += 1
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)
        return 1

    def _flush(self) -> None:
        """Write the outbox onto gmqtt's connection in one write, as gmqtt would write each
        packet; what a connection lost meanwhile cannot take is counted lost."""
        self._flush_handle = None
        data, messages = self._outbox, self._outbox_messages
        self._outbox, self._outbox_messages = bytearray(), 0
        transport = self._transport
        if transport is None or transport.is_closing():
            self._counters.lost += messages
            return
        transport.write(data)
        self._counters.published += messages

    async def _writable_transport(self) -> asyncio.Transport | None:
        """The slow path of publish: wait for room to write; None (lost) if disconnected."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            poller = self._drain_poller
            if poller is None:
                poller = self._drain_poller = asyncio.get_running_loop().create_task(
                    self._poll_drain(transport)
                )
            await asyncio.shield(poller)  # one poller, however many publishers wait
        transport = self._transport  # the connection may have dropped meanwhile
        if transport is not None and not transport.is_closing():
            return transport
        if not self._active:
            raise ConnectionError(self._not_connected)
        self._counters.lost += 1
        return None

    async def _poll_drain(self, transport: asyncio.Transport) -> None:
        """Return once the bytes waiting to be sent are down to half the limit, or closed."""
        try:
            low = self._max_buffered // 2
            while (
                not transport.is_closing()
                and transport.get_write_buffer_size() + len(self._outbox) > low
            ):
                await asyncio.sleep(_DRAIN_POLL_S)
        finally:
            self._drain_poller = None

    # --- subscribing -----------------------------------------------------------------------------

    async def subscribe(self, topic_filter: str, callback: MessageCallback) -> Subscription:
        """Call ``callback(topic, payload)`` for every message on the filter, in order.

        Sends a SUBSCRIBE, and waits for its acknowledgement and the retained messages it
        replays, only for the first local subscription of a filter that no standing filter
        covers: the others get no retained messages. While the connection is down, the
        subscription is registered and its filter subscribed on reconnecting.
        """
        validate_topic_filter(topic_filter)
        if not callable(callback):
            raise TypeError(f"callback must be an async callable, got {callback!r}")
        if not self._active:
            raise ConnectionError(self._not_connected)
        subscription = QueuedSubscription(
            topic_filter, callback, self._counters, self._forget, _log
        )
        # Registered before the SUBSCRIBE goes out: the retained messages it replays follow.
        if is_wildcard(topic_filter):
            self._wildcard.add(topic_filter, subscription)
            covered = topic_filter in self._standing
        else:
            self._exact.setdefault(topic_filter, []).append(subscription)
            covered = bool(self._standing_trie.match(topic_filter))
        if covered:
            return subscription
        refs = self._broker_refs.get(topic_filter, 0)
        self._broker_refs[topic_filter] = refs + 1
        if refs == 0 and self._transport is not None:
            # Sent right away, while connected; only the waiting for the answer is a task,
            # which concurrent subscribers of the same filter wait for too.
            acks = self._send_subscribe(self._client, [topic_filter])
            task = asyncio.get_running_loop().create_task(
                self._subscribed_on_broker([topic_filter], acks)
            )
            self._subscribing[topic_filter] = task
            task.add_done_callback(lambda done: self._subscribed(topic_filter, done))
        pending = self._subscribing.get(topic_filter)
        if pending is not None:
            try:
                await asyncio.shield(pending)
            except _ConnectionClosed:
                if self._active:
                    return subscription  # lost meanwhile: subscribed again on reconnecting
                await subscription.unsubscribe()
                raise
            except BaseException:
                await subscription.unsubscribe()
                raise
        return subscription

    def _subscribed(self, topic_filter: str, task: asyncio.Task[None]) -> None:
        if self._subscribing.get(topic_filter) is task:
            del self._subscribing[topic_filter]
        if not task.cancelled():
            task.exception()  # its waiters have seen it, or left: nothing else to tell

    def _send_subscribe(self, client: Any, filters: list[str]) -> _Acks:
        """SUBSCRIBE the filters in one packet, and UNSUBSCRIBE a filter nobody holds.

        The UNSUBSCRIBE is a barrier: a broker answers packets in order, so its
        acknowledgement comes after the retained messages the SUBSCRIBE replays (mosquitto
        does; a broker that sends them later may deliver them after ``subscribe`` returns).
        """
        suback = self._expect_ack(client.subscribe([gmqtt.Subscription(f, qos=0) for f in filters]))
        # gmqtt lists what it subscribed and scans the list on every SUBACK and UNSUBSCRIBE;
        # the connector keeps its own (and re-subscribes itself), so keep gmqtt's empty.
        client.subscriptions.clear()
        return suback, self._expect_ack(client.unsubscribe(self._barrier))

    async def _subscribed_on_broker(self, filters: list[str], acks: _Acks) -> None:
        """Return once the broker acknowledged the SUBSCRIBE and replayed its retained messages."""
        suback, barrier = acks
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                granted = await suback
                await barrier
        except TimeoutError:
            raise ConnectionError(
                f"the MQTT broker at {self._url} did not acknowledge the subscription to "
                f"{filters} within {ACK_TIMEOUT_S} s"
            ) from None
        refused = [f for f, code in zip(filters, granted, strict=False) if code >= _SUBACK_FAILURE]
        if refused:
            raise ConnectionError(f"the MQTT broker at {self._url} refused to subscribe {refused}")

    def _expect_ack(self, packet_id: int) -> asyncio.Future[tuple[int, ...]]:
        future: asyncio.Future[tuple[int, ...]] = asyncio.get_running_loop().create_future()
        self._acks[packet_id] = future
        return future

    def _on_ack(
        self, client: Any, packet_id: int, codes: tuple[int, ...], *properties: Any
    ) -> None:
        # gmqtt calls this on SUBACK (codes, properties) and UNSUBACK (codes).
        if client is not self._client:
            return
        future = self._acks.pop(packet_id, None)
        if future is not None and not future.done():
            future.set_result(tuple(codes))

    def _fail_acks(self) -> None:
        acks, self._acks = self._acks, {}
        for future in acks.values():
            if not future.done():
                future.set_exception(_ConnectionClosed(f"the connection to {self._url} closed"))
                future.exception()  # retrieved here: a waiter may have left already

    def _forget(self, subscription: QueuedSubscription) -> None:
        """Called once by each subscription's ``unsubscribe()``: unroute it, maybe UNSUBSCRIBE."""
        topic_filter = subscription.topic_filter
        if is_wildcard(topic_filter):
            self._wildcard.remove(topic_filter, subscription)
        else:
            bucket = self._exact[topic_filter]
            bucket.remove(subscription)
            if not bucket:
                del self._exact[topic_filter]
        refs = self._broker_refs.get(topic_filter)
        if refs is None:
            return  # covered by a standing filter
        if refs > 1:
            self._broker_refs[topic_filter] = refs - 1
            return
        del self._broker_refs[topic_filter]
        if self._transport is not None:
            self._client.unsubscribe(topic_filter)  # its UNSUBACK needs no waiting for

    def _all_subscriptions(self) -> list[QueuedSubscription]:
        subscriptions = [s for bucket in self._exact.values() for s in bucket]
        return subscriptions + list(self._wildcard.values())

    # --- receiving -------------------------------------------------------------------------------

    def _on_message(self, client: Any, topic: str, data: bytes, qos: int, properties: Any) -> None:
        # Called by gmqtt for every PUBLISH received. A plain function, not a coroutine one,
        # so gmqtt calls it directly rather than making a task per message.
        counters = self._counters
        counters.received += 1
        targets = self._exact.get(topic, ())
        if self._wildcard:
            targets = [*targets, *self._wildcard.match(topic)]
        if not targets:
            counters.unrouted += 1
            return
        payload = decode_payload(data)
        for subscription in targets:  # enqueue runs no callback: the bucket cannot change
            subscription.enqueue(topic, payload)

    # --- statistics ------------------------------------------------------------------------------

    def statistics(self) -> MqttStatistics:
        """Return a snapshot of the counters."""
        c = self._counters
        return MqttStatistics(
            published=c.published,
            lost=c.lost,
            received=c.received,
            delivered=c.delivered,
            unrouted=c.unrouted,
            callback_errors=c.callback_errors,
            reconnects=c.reconnects,
            disconnects=c.disconnects,
            subscriptions=sum(map(len, self._exact.values())) + len(self._wildcard),
            broker_filters=len(self._standing) + len(self._broker_refs),
        )

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "active" if self._active else "closed"
        return f"<MqttConnector {self._url} {state}>"
