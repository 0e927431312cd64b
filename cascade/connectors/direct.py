"""A point-to-point async inbox, for when a topic bus is more than a link needs."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class DirectChannel(Generic[T]):
    """A named FIFO inbox between two tasks: a thin wrapper over ``asyncio.Queue``.

    ``maxsize`` <= 0 means unbounded; when bounded, ``send`` waits for room and
    ``send_nowait`` raises ``asyncio.QueueFull``.
    """

    def __init__(self, name: str = "", maxsize: int = 0) -> None:
        self._name = name
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize)

    @property
    def name(self) -> str:
        """The label given at construction, for logs and reprs."""
        return self._name

    @property
    def maxsize(self) -> int:
        """The capacity of the channel; 0 (or less) means unbounded."""
        return self._queue.maxsize

    async def send(self, message: T) -> None:
        """Put a message in the inbox, waiting for room if the channel is bounded and full."""
        await self._queue.put(message)

    def send_nowait(self, message: T) -> None:
        """Put a message in the inbox now; raises ``asyncio.QueueFull`` if there is no room."""
        self._queue.put_nowait(message)

    async def recv(self, timeout: float | None = None) -> T:
        """Take the oldest message, waiting up to ``timeout`` seconds (None: forever).

        Raises the builtin ``TimeoutError`` when nothing arrives in time.
        """
        if timeout is None:
            return await self._queue.get()
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0 or None, got {timeout!r}")
        async with asyncio.timeout(timeout):
            return await self._queue.get()

    def qsize(self) -> int:
        """The number of messages waiting to be received."""
        return self._queue.qsize()

    def empty(self) -> bool:
        """Tell whether no message is waiting."""
        return self._queue.empty()

    def __repr__(self) -> str:
        return f"DirectChannel(name={self._name!r}, qsize={self.qsize()}, maxsize={self.maxsize})"
