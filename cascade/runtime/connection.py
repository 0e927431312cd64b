"""The engine's own connector, connected while at least one of its runs is active."""

from __future__ import annotations

import asyncio
from typing import Any

from cascade.connectors.base import Connector, Subscription
from cascade.runtime.constraints import CONSTRAINT_TOPICS, ConstraintManager


class ConnectionLease:
    """Connects the engine's own connector while at least one run is active.

    Reference-counted so that one run finishing never disconnects the others; it also
    mirrors retained constraint messages into the ConstraintManager while connected.
    """

    __slots__ = ("_connector", "_constraints", "_lock", "_loop", "_subscription", "_users")

    def __init__(self, connector: Connector | None, constraints: ConstraintManager) -> None:
        self._connector = connector
        self._constraints = constraints
        self._users = 0
        self._subscription: Subscription | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _lock_here(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # An asyncio.Lock belongs to one loop; a later cs.run() brings a new loop.
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    @property
    def needed(self) -> bool:
        """False without a connector: then a run need not acquire or release anything."""
        return self._connector is not None

    async def acquire(self) -> None:
        """One more run uses the connection: connect it if it is the first."""
        if self._connector is None:
            return
        async with self._lock_here():
            if self._users == 0:
                await self._connector.connect()
                self._subscription = await self._connector.subscribe(
                    CONSTRAINT_TOPICS, self._on_constraint
                )
                # Let the connector deliver retained constraints before any task is admitted.
                await asyncio.sleep(0)
            self._users += 1

    async def release(self) -> None:
        """One run less uses the connection: disconnect it if it was the last."""
        if self._connector is None:
            return
        async with self._lock_here():
            self._users -= 1
            if self._users == 0:
                subscription, self._subscription = self._subscription, None
                if subscription is not None:
                    await subscription.unsubscribe()
                await self._connector.disconnect()
                # Unheard while disconnected, a clear would leave them stale; replay restores them.
                self._constraints.forget_messages()

    async def _on_constraint(self, topic: str, payload: Any) -> None:
        self._constraints.apply_message(topic, payload)
