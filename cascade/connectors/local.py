"""An in-memory, MQTT-like broker and a connector over it: no network, same semantics."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cascade.connectors.base import MessageCallback, Subscription, is_empty_payload
from cascade.connectors.delivery import DeliveryCounters, QueuedSubscription
from cascade.connectors.topics import (
    is_wildcard,
    levels_match,
    validate_topic,
    validate_topic_filter,
)
from cascade.connectors.trie import TopicTrie

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
class _Counters(DeliveryCounters):
    # Shared by a broker and its subscriptions, which do the delivery counting.
    published: int = 0
    routed: int = 0
    unrouted: int = 0


class LocalBroker:
    """An in-memory MQTT-like broker: wildcard routing, retained messages, per-subscriber FIFO.

    ``publish`` only enqueues; a subscription's own delivery task (started when a message
    arrives, gone when none is pending) awaits its callback, so a slow or failing
    subscriber never holds up the publisher or the other subscribers.
    Queues are unbounded: a subscriber that cannot keep up grows its backlog.
    """

    def __init__(self) -> None:
        # Exact filters are a dict lookup per publish; only wildcards need the trie's walk.
        self._exact: dict[str, list[QueuedSubscription]] = {}
        self._wildcard: TopicTrie[QueuedSubscription] = TopicTrie()
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
        subscription = QueuedSubscription(
            topic_filter, callback, self._counters, self._remove, _log
        )
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

    def _matching(self, topic: str) -> list[QueuedSubscription] | tuple[()]:
        exact = self._exact.get(topic, ())
        if not self._wildcard:
            return exact  # enqueue never runs a callback, so the bucket cannot change meanwhile
        return [*exact, *self._wildcard.match(topic)]  # exact subscriptions first

    def _count_publish(self, routed: int) -> None:
        self._counters.published += 1
        self._counters.routed += routed
        if not routed:
            self._counters.unrouted += 1

    def _replay_retained(self, subscription: QueuedSubscription) -> None:
        if not self._retained:
            return
        if not is_wildcard(subscription.topic_filter):
            payload = self._retained.get(subscription.topic_filter, _ABSENT)
            if payload is not _ABSENT:
                subscription.enqueue(subscription.topic_filter, payload)
                self._counters.routed += 1
            return
        levels = subscription.topic_filter.split("/")
        # As in live routing (the trie): a leading wildcard never matches a '$' topic.
        hides_dollar = levels[0] in ("+", "#")
        for topic, payload in self._retained.items():
            if hides_dollar and topic.startswith("$"):
                continue
            if levels_match(levels, topic.split("/")):
                subscription.enqueue(topic, payload)
                self._counters.routed += 1

    def _add(self, subscription: QueuedSubscription) -> None:
        if is_wildcard(subscription.topic_filter):
            self._wildcard.add(subscription.topic_filter, subscription)
        else:
            self._exact.setdefault(subscription.topic_filter, []).append(subscription)

    def _remove(self, subscription: QueuedSubscription) -> None:
        if is_wildcard(subscription.topic_filter):
            self._wildcard.remove(subscription.topic_filter, subscription)
            return
        bucket = self._exact[subscription.topic_filter]
        bucket.remove(subscription)
        if not bucket:
            del self._exact[subscription.topic_filter]

    def _all_subscriptions(self) -> list[QueuedSubscription]:
        subscriptions = [s for bucket in self._exact.values() for s in bucket]
        return subscriptions + list(self._wildcard.values())

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
