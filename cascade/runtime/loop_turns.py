"""LoopTurns: whether the event loop went round since a mark (a mixin of the Engine).

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
    a loop that is not the running one only makes `_turn_moved()` say False: runs then
    yield as if every generation was synchronous, which is always safe.

    A mixin rather than an attribute: an engine counts its own turns without one more
    object, which a layout of one engine per agent would pay once per agent.
    """

    __slots__ = ("_turn_pending_on", "_turns")

    def __init__(self) -> None:
        self._turns = 0
        self._turn_pending_on: asyncio.AbstractEventLoop | None = None

    def _mark_turn(self) -> int:
        """The current turn, with a callback pending to advance it on the running loop."""
        loop = self._turn_pending_on
        if loop is None or loop.is_closed():
            loop = self._turn_pending_on = asyncio.get_running_loop()
            loop.call_soon(self._advance_turn)
        return self._turns

    def _turn_moved(self, mark: int) -> bool:
        """Whether the loop has run other callbacks since `_mark_turn()` returned `mark`."""
        return self._turns != mark

    def _advance_turn(self) -> None:
        self._turns += 1
        self._turn_pending_on = None
