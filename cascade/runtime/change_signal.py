"""ChangeSignal: wake waiters when some shared state changed (capacity freed, constraint lifted)."""

from __future__ import annotations

import asyncio
import contextlib


class ChangeSignal:
    """Like a broadcast `asyncio.Condition` without a lock, usable from any event loop."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    async def wait(self, timeout: float | None = None) -> None:
        """Return at the next `notify()` or after `timeout` seconds, whichever is first."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiters.discard(waiter)

    def notify(self) -> None:
        """Wake every current waiter."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()
