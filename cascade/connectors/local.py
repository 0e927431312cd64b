"""An in-memory, MQTT-like broker and a connector over it: no network, same semantics."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cascade.connectors.base import MessageCallback, Subscription, is_empty_payload
from cascade.connectors.topics import (
    is_wildcard,
    levels_match,
    validate_topic,
    validate_topic_filter,
)

_log = logging.getLogger("cascade.connectors.local")

_ABSENT: Any = object()
_NOT_CONNECTED = "LocalBusConnector is not connected: call 'await connector.connect()' first"


# --- broker --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerStatistics:
    """A snapshot of a broker's counters, for tests, measurements and health checks."""

    published: int
    routed: int
    delivered: int
    unrouted: int
    callback_errors: int
    subscriptions: int
    retained: int


@dataclass(slots=True)
class _Counters:
    # Shared by a broker and its subscriptions' workers, which do the delivery counting.
    published: int = 0
    routed: int = 0
    delivered: int = 0
    unrouted: int = 0
    callback_errors: int = 0


class _LocalSubscription:
    """One subscriber: its filter, its own FIFO of pending messages, and a delivery task
    that exists only while messages are pending.

    Delivery still happens in a task of its own (a slow or failing callback never holds up
    the publisher), but an idle subscription costs no task and no queue: a subscription
    that never receives a message, the common case for short-lived ones, is three
    attributes and a deque. One task at a time drains the deque, so order is FIFO.
    """

    __slots__ = (
        "_callback",
        "_closed",
        "_counters",
        "_on_close",
        "_pending",
        "_topic_filter",
        "_worker",
        "levels",
    )

    def __init__(
        self,
        topic_filter: str,
        callback: MessageCallback,
        counters: _Counters,
        on_close: Callable[[_LocalSubscription], None],
    ) -> None:
        self._topic_filter = topic_filter
        self.levels = tuple(topic_filter.split("/"))
        self._callback = callback
        self._counters = counters
        self._on_close = on_close
        self._pending: deque[tuple[str, Any]] = deque()
        self._closed = False
        self._worker: asyncio.Task[None] | None = None

    @property
    def topic_filter(self) -> str:
        """The filter this subscription was made with."""
        return self._topic_filter

    @property
    def closed(self) -> bool:
        """Tell whether ``unsubscribe()`` has been called."""
        return self._closed

    def enqueue(self, topic: str, payload: Any) -> None:
        """Queue a message and make sure a delivery task is on its way; never waits."""
        self._pending.append((topic, payload))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(
                self._drain(), name=f"cascade-subscription:{self._topic_filter}"
            )

    async def unsubscribe(self) -> None:
        """Stop delivery, drop pending messages and cancel a delivery in flight; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._on_close(self)
        self._pending.clear()
        worker = self._worker
        if worker is None or worker.done() or worker is asyncio.current_task():
            # Idle, or called from our own callback: the task stops once that returns.
            return
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            if _being_cancelled():
                raise  # we were cancelled ourselves, not only the worker

    async def _drain(self) -> None:
        try:
            pending = self._pending
            while pending and not self._closed:
                topic, payload = pending.popleft()
                await self._deliver(topic, payload)
        finally:
            self._worker = None

    async def _deliver(self, topic: str, payload: Any) -> None:
        try:
            await self._callback(topic, payload)
        except asyncio.CancelledError:
            if _being_cancelled():
                raise
            # The callback raised CancelledError on its own: a failure, not a shutdown.
            self._record_failure(topic)
        except Exception:
            self._record_failure(topic)
        else:
            self._counters.delivered += 1

    def _record_failure(self, topic: str) -> None:
        self._counters.callback_errors += 1
        _log.exception("callback of subscription %r failed on topic %r", self._topic_filter, topic)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._pending)}"
        return f"<LocalSubscription {self._topic_filter!r} {state}>"


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class LocalBroker:
    """An in-memory MQTT-like broker: wildcard routing, retained messages, per-subscriber FIFO.

    ``publish`` only enqueues; a subscription's own delivery task (started when a message
    arrives, gone when none is pending) awaits its callback, so a slow or failing
    subscriber never holds up the publisher or the other subscribers.
    Queues are unbounded: a subscriber that cannot keep up grows its backlog.
    """

    def __init__(self) -> None:
        # Exact filters are a dict lookup per publish; only wildcards need matching.
        self._exact: dict[str, list[_LocalSubscription]] = {}
        self._wildcard: list[_LocalSubscription] = []
        self._retained: dict[str, Any] = {}
        self._counters = _Counters()

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> int:
        """Route a message to every matching subscription; return how many it reached.

        With ``retain=True`` the payload is kept for future subscribers of the topic,
        and an empty payload (see ``is_empty_payload``) clears the retained one instead.
        """
        validate_topic(topic)
        if retain:
            self._retain(topic, payload)
        targets = self._matching(topic)
        for subscription in targets:
            subscription.enqueue(topic, payload)
        self._count_publish(len(targets))
        return len(targets)

    async def subscribe(self, topic_filter: str, callback: MessageCallback) -> Subscription:
        """Deliver matching retained messages, then live ones, to ``callback`` in order."""
        validate_topic_filter(topic_filter)
        if not callable(callback):
            raise TypeError(f"callback must be an async callable, got {callback!r}")
        subscription = _LocalSubscription(topic_filter, callback, self._counters, self._remove)
        # No await between replay and registration, so no live message can overtake it.
        self._replay_retained(subscription)
        self._add(subscription)
        return subscription

    async def aclose(self) -> None:
        """Unsubscribe every subscription and wait for their workers to finish."""
        for subscription in self._all_subscriptions():
            await subscription.unsubscribe()

    def statistics(self) -> BrokerStatistics:
        """Return a snapshot of the counters."""
        c = self._counters
        return BrokerStatistics(
            published=c.published,
            routed=c.routed,
            delivered=c.delivered,
            unrouted=c.unrouted,
            callback_errors=c.callback_errors,
            subscriptions=len(self._all_subscriptions()),
            retained=len(self._retained),
        )

    def _retain(self, topic: str, payload: Any) -> None:
        if is_empty_payload(payload):
            self._retained.pop(topic, None)
        else:
            self._retained[topic] = payload

    def _matching(self, topic: str) -> list[_LocalSubscription] | tuple[()]:
        exact = self._exact.get(topic, ())
        if not self._wildcard:
            return exact  # enqueue never runs a callback, so the bucket cannot change meanwhile
        levels = topic.split("/")
        return [*exact, *(s for s in self._wildcard if levels_match(s.levels, levels))]

    def _count_publish(self, routed: int) -> None:
        self._counters.published += 1
        self._counters.routed += routed
        if not routed:
            self._counters.unrouted += 1

    def _replay_retained(self, subscription: _LocalSubscription) -> None:
        if not self._retained:
            return
        if not is_wildcard(subscription.topic_filter):
            payload = self._retained.get(subscription.topic_filter, _ABSENT)
            if payload is not _ABSENT:
                subscription.enqueue(subscription.topic_filter, payload)
                self._counters.routed += 1
            return
        for topic, payload in self._retained.items():
            if levels_match(subscription.levels, topic.split("/")):
                subscription.enqueue(topic, payload)
                self._counters.routed += 1

    def _add(self, subscription: _LocalSubscription) -> None:
        if is_wildcard(subscription.topic_filter):
            self._wildcard.append(subscription)
        else:
            self._exact.setdefault(subscription.topic_filter, []).append(subscription)

    def _remove(self, subscription: _LocalSubscription) -> None:
        if is_wildcard(subscription.topic_filter):
            self._wildcard.remove(subscription)
            return
        bucket = self._exact[subscription.topic_filter]
        bucket.remove(subscription)
        if not bucket:
            del self._exact[subscription.topic_filter]

    def _all_subscriptions(self) -> list[_LocalSubscription]:
        subscriptions = [s for bucket in self._exact.values() for s in bucket]
        return subscriptions + self._wildcard

    def __repr__(self) -> str:
        stats = self.statistics()
        return f"<LocalBroker subscriptions={stats.subscriptions} retained={stats.retained}>"


# --- connector -----------------------------------------------------------------------------------


class _TrackedSubscription:
    """A broker subscription that also forgets itself in the connector that made it."""

    def __init__(self, inner: Subscription, owner: set[_TrackedSubscription]) -> None:
        self._inner = inner
        self._owner = owner

    @property
    def topic_filter(self) -> str:
        """The filter this subscription was made with."""
        return self._inner.topic_filter

    async def unsubscribe(self) -> None:
        """Stop delivery and forget the subscription; idempotent."""
        self._owner.discard(self)
        await self._inner.unsubscribe()

    def __repr__(self) -> str:
        return repr(self._inner)


class LocalBusConnector:
    """A ``Connector`` over a ``LocalBroker``; many can share one broker, each owning its subs."""

    def __init__(self, broker: LocalBroker) -> None:
        self._broker = broker
        self._connected = False
        self._subscriptions: set[_TrackedSubscription] = set()

    @property
    def broker(self) -> LocalBroker:
        """The broker this connector publishes to and subscribes on."""
        return self._broker

    @property
    def is_connected(self) -> bool:
        """Tell whether ``connect()`` was called and ``disconnect()`` not since."""
        return self._connected

    async def connect(self) -> None:
        """Start accepting publish/subscribe calls; idempotent."""
        self._connected = True

    async def disconnect(self) -> None:
        """Unsubscribe everything made through this connector (only that); idempotent."""
        self._connected = False
        for subscription in list(self._subscriptions):
            await subscription.unsubscribe()

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> int:
        """Publish through the broker; return how many subscriptions it was routed to."""
        self._require_connected()
        return await self._broker.publish(topic, payload, retain=retain)

    async def subscribe(self, topic_filter: str, callback: MessageCallback) -> Subscription:
        """Subscribe on the broker; the subscription ends at the latest on ``disconnect()``."""
        self._require_connected()
        inner = await self._broker.subscribe(topic_filter, callback)
        tracked = _TrackedSubscription(inner, self._subscriptions)
        self._subscriptions.add(tracked)
        return tracked

    def _require_connected(self) -> None:
        if not self._connected:
            raise ConnectionError(_NOT_CONNECTED)

    def __repr__(self) -> str:
        state = "connected" if self._connected else "disconnected"
        return f"<LocalBusConnector {state} subscriptions={len(self._subscriptions)}>"
