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
    a loop that stopped before running it is replaced on the running one; if it runs after
    all, it only advances the count while this loop is not running (a loop running on
    another thread only makes `moved()` say False: runs yield as if every generation was
    synchronous, which is always safe). One counter serves every engine of a thread (see
    cascade.runtime.engine): one callback per loop pass, however many engines run on it.
    """

    __slots__ = ("_count", "_pending_on")

    def __init__(self) -> None:
        self._count = 0
        self._pending_on: asyncio.AbstractEventLoop | None = None

    def mark(self) -> int:
        """The current turn, with a callback pending to advance it on the running loop."""
        loop = self._pending_on
        # A loop that is not running is not the one this runs on (asking which one runs
        # costs more, every generation); one running elsewhere just leaves moved() False.
        if loop is None or not loop.is_running():
            loop = self._pending_on = asyncio.get_running_loop()
            loop.call_soon(self._advance, loop)
        return self._count

    def moved(self, mark: int) -> bool:
        """Whether the loop has run other callbacks since `mark()` returned `mark`."""
        return self._count != mark

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        self._count += 1
        if self._pending_on is loop:
            self._pending_on = None
