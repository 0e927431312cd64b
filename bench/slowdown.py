"""A deliberate, measurable slowdown for proving the gate works (`--inject-slowdown`).

An engine instrument that burns CPU after each generation, keeping the CPU it has spun at
`fraction` of all the other CPU the process spent since the first generation (measured
with process_time, so time the process spends descheduled does not count). The harness's
"CPU per generation" grows by that fraction in every engine mode; raw mode (no engine) is
untouched. `bench run --inject-slowdown FRACTION` registers it for every engine of its
process, and the gate asks for that on the head side only: the base, maybe an engine
without instruments, never imports this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cascade as cs
from bench.errors import BenchError


def check_fraction(fraction: float) -> None:
    """Refuse a fraction the gate cannot use (NaN included)."""
    if not 0 < fraction < 10:
        raise BenchError(f"--inject-slowdown must be a fraction like 0.15, got {fraction}")


class Slowdown(cs.Instrument):
    """Spins after each generation until the CPU spun is `fraction` x the CPU of everything
    else since the first generation; `clock` is injectable for tests."""

    def __init__(self, fraction: float, clock: Callable[[], float] = time.process_time) -> None:
        check_fraction(fraction)
        self.fraction = fraction
        self.clock = clock
        self.start: float | None = None
        self.spun = 0.0

    def after_generation(
        self, engine: cs.Engine, run_id: str, generation: int, result: Any
    ) -> None:
        """Spin off what is owed, measured from the first generation's end."""
        now = self.clock()
        if self.start is None:
            self.start = now
            return
        owed = self.fraction * (now - self.start - self.spun) - self.spun
        clock = now
        while clock < now + owed:
            clock = self.clock()
        self.spun += clock - now
