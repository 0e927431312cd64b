"""Which event loop and which clock a run uses, checked before any work starts.

`--clock virtual` runs on a `looptime` loop: sleeps and timeouts complete as soon as the
loop is idle, so a 60 s simulation runs as fast as the CPU allows and the same seed gives
the same counts every time.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable

import looptime

from bench.errors import BenchError

LOOPS = ("asyncio", "uvloop")
CLOCKS = ("real", "virtual")


def check_loop(loop: str, clock: str) -> None:
    """Raise BenchError unless this loop/clock pair can run here."""
    if loop not in LOOPS:
        raise BenchError(f"unknown loop {loop!r}; choose one of: {', '.join(LOOPS)}")
    if clock not in CLOCKS:
        raise BenchError(f"unknown clock {clock!r}; choose one of: {', '.join(CLOCKS)}")
    if loop == "uvloop" and clock == "virtual":
        raise BenchError(
            "--clock virtual needs --loop asyncio: looptime patches asyncio's own event loop "
            "and cannot fast-forward uvloop"
        )
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise BenchError(
            "--loop uvloop was requested but uvloop is not installed: "
            "`pip install uvloop` (or use --loop asyncio)"
        )


def loop_factory(loop: str, clock: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A factory for `asyncio.Runner(loop_factory=...)` giving the chosen loop and clock."""
    check_loop(loop, clock)
    if clock == "virtual":
        return lambda: looptime.new_event_loop(start=0.0)
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop
