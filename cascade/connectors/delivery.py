"""Delivery to one subscriber: its own FIFO of messages and a task only while some are pending.

Shared by the in-memory broker (`local.py`) and the MQTT connector (`mqtt.py`), which both
route a message to subscriptions and leave the awaiting of callbacks to them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cascade.connectors.base import MessageCallback


@dataclass(slots=True)
class DeliveryCounters:
    """Counters the subscriptions of one router share; routers extend it with their own."""

    delivered: int = 0
    callback_errors: int = 0


class QueuedSubscription:
    """One subscriber: its filter, its own FIFO of pending messages, and a delivery task
    that exists only while messages are pending.

    Delivery happens in a task of its own (a slow or failing callback never holds up the
    router or the other subscribers), but an idle subscription costs no task and no queue:
    a subscription that never receives a message, the common case for short-lived ones, is
    a few attributes and a deque. One task at a time drains the deque, so order is FIFO.
    """

    __slots__ = (
        "_callback",
        "_closed",
        "_counters",
        "_log",
        "_on_close",
        "_pending",
        "_topic_filter",
        "_worker",
    )

    def __init__(
        self,
        topic_filter: str,
        callback: MessageCallback,
        counters: DeliveryCounters,
        on_close: Callable[[QueuedSubscription], None],
        log: logging.Logger,
    ) -> None:
        self._topic_filter = topic_filter
        self._callback = callback
        self._counters = counters
        self._on_close = on_close
        self._log = log  # failures are logged under the router's name
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
        # One loop for every pending message, the callback awaited inline: a coroutine less
        # per message than a helper method would cost, on the path every message takes.
        try:
            pending, callback, counters = self._pending, self._callback, self._counters
            while pending and not self._closed:
                topic, payload = pending.popleft()
                try:
                    await callback(topic, payload)
                except asyncio.CancelledError:
                    if _being_cancelled():
                        raise
                    # The callback raised CancelledError on its own: a failure, not a shutdown.
                    self._record_failure(topic)
                except Exception:
                    self._record_failure(topic)
                else:
                    counters.delivered += 1
        finally:
            self._worker = None

    def _record_failure(self, topic: str) -> None:
        self._counters.callback_errors += 1
        self._log.exception(
            "callback of subscription %r failed on topic %r", self._topic_filter, topic
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._pending)}"
        return f"<QueuedSubscription {self._topic_filter!r} {state}>"


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
