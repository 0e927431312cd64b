"""MessageBus: synchronous, in-process delivery of engine events to subscribers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cascade.runtime.events import Event

log = logging.getLogger("cascade.bus")
Handler = Callable[[Any], None]


class MessageBus:
    """Delivers each event to the handlers of its class and of its base classes.

    With no subscriber for an event's class, `publish` is a dict lookup; callers on hot
    paths can ask `wants(cls)` first to avoid even building the event. A handler that
    raises is logged and unsubscribed, never fatal to the run.
    """

    __slots__ = ("_dispatch", "_handlers", "idle")

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}
        self._dispatch: dict[type, tuple[Handler, ...]] = {}
        self.idle = True
        """True while nobody subscribes to anything: one attribute read for hot paths."""

    def subscribe(self, event_type: type, handler: Handler) -> Callable[[], None]:
        """Call `handler(event)` for each published `event_type`; returns an unsubscriber."""
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise TypeError(f"subscribe() needs an Event subclass, got {event_type!r}")
        self._handlers.setdefault(event_type, []).append(handler)
        self._dispatch.clear()
        self.idle = False
        return lambda: self.unsubscribe(event_type, handler)

    def unsubscribe(self, event_type: type, handler: Handler) -> None:
        """Stop delivering `event_type` to `handler` (no error when it was not subscribed)."""
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)
            self._dispatch.clear()
            self.idle = not any(self._handlers.values())

    def wants(self, event_type: type) -> bool:
        """True when publishing an `event_type` would reach at least one handler."""
        handlers = self._dispatch.get(event_type)
        if handlers is None:
            handlers = self._resolve(event_type)
        return bool(handlers)

    def publish(self, event: Event) -> None:
        """Deliver `event` to every matching handler, in subscription order."""
        handlers = self._dispatch.get(type(event))
        if handlers is None:
            handlers = self._resolve(type(event))
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("event handler %r failed on %r; unsubscribed", handler, event)
                for cls in type(event).__mro__:
                    self.unsubscribe(cls, handler)

    def _resolve(self, event_type: type) -> tuple[Handler, ...]:
        handlers = tuple(h for cls in event_type.__mro__ for h in self._handlers.get(cls, ()))
        self._dispatch[event_type] = handlers
        return handlers
