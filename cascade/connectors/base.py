"""The connector contract: how cascade talks to a message transport, whatever carries it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

MessageCallback = Callable[[str, Any], Awaitable[None]]
"""Called as ``await callback(topic, payload)`` once per message, in arrival order."""


def is_empty_payload(payload: Any) -> bool:
    """Tell whether a payload is empty (None, b"" or ""), MQTT's zero-length message."""
    # isinstance first: `payload == b""` would misbehave on array-like payloads.
    if payload is None:
        return True
    return isinstance(payload, bytes | bytearray | str) and len(payload) == 0


@runtime_checkable
class Subscription(Protocol):
    """A live interest in a topic filter; unsubscribe to stop its callback being called."""

    @property
    def topic_filter(self) -> str:
        """The filter this subscription was made with, e.g. ``"sensors/+/temp"``."""
        ...

    async def unsubscribe(self) -> None:
        """Stop delivery to this subscription; calling it again does nothing."""
        ...


@runtime_checkable
class Connector(Protocol):
    """A publish/subscribe transport, so the engine need not care which one it talks to."""

    async def connect(self) -> None:
        """Open the connection; calling it while connected does nothing."""
        ...

    async def disconnect(self) -> None:
        """Close the connection and drop its subscriptions; calling it again does nothing."""
        ...

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> int:
        """Send a message and return how many subscriptions it was routed to."""
        ...

    async def subscribe(self, topic_filter: str, callback: MessageCallback) -> Subscription:
        """Call ``callback(topic, payload)`` for every message whose topic matches the filter."""
        ...
