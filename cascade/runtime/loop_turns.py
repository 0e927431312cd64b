"""LoopTurns: whether the event loop went round since a mark.

A run yields to the loop after each generation so that a tail call that never waits
cannot starve everything else. A generation that waited on something (a sleep, a
message) has let the loop run already; yielding again costs a loop pass and a task step
for nothing. A pending `call_soon` callback counts the turns: if a generation marks
before it starts and the count moved by its end, the loop ran other callbacks meanwhile.
"""

from __future__ import annotations

import asyncio


class LoopTurns:
    """A turn counter advanced by at most one pending callback, scheduled on demand.

    Exact: a generation that does not suspend runs inside one callback, so the count
    cannot move under it; one that suspends resumes only after the pending callback (it
    was scheduled first, and the loop runs callbacks in order). A callback left pending on
    another loop (one that stopped before running it) is replaced on the running one; if
    it runs after all, it only advances the count while this loop is not running. One
    counter serves every engine of a thread (see cascade.runtime.engine): one callback per
    loop pass, however many engines run on it.
    """

    __slots__ = ("_count", "_pending_on")

    def __init__(self) -> None:
        self._count = 0
        self._pending_on: asyncio.AbstractEventLoop | None = None

    def mark(self) -> int:
        """The current turn, with a callback pending to advance it on the running loop."""
        loop = asyncio.get_running_loop()
        if self._pending_on is not loop:
            self._pending_on = loop
            loop.call_soon(self._advance, loop)
        return self._count

    def moved(self, mark: int) -> bool:
        """Whether the loop has run other callbacks since `mark()` returned `mark`."""
        return self._count != mark

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        self._count += 1
        if self._pending_on is loop:
            self._pending_on = None
