"""A deterministic, instruction-based slowdown for valgrind runs (`child --slowdown-iterations`).

Unlike `bench.slowdown` (which spins on CPU time, so its cost is whatever the clock says),
this one does a fixed amount of work: a pure-Python loop of `iterations` steps after every
generation, the same instructions on every run. `Calibration` turns a wanted fraction of a
generation's instructions into iterations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cascade as cs


def cost_spin(iterations: int) -> int:
    """The slowdown's work: a fixed pure-Python loop (a small LCG), its result returned."""
    state = 1
    for _ in range(iterations):
        state = (state * 75 + 74) % 65537
    return state


class InstructionSlowdown(cs.Instrument):
    """Runs `cost_spin(iterations)` after each generation of every engine it is registered on."""

    def __init__(self, iterations: int) -> None:
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        self.iterations = iterations
        self.last = 0

    def after_generation(
        self, engine: cs.Engine, run_id: str, generation: int, result: Any
    ) -> None:
        """Spin a fixed number of iterations."""
        self.last = cost_spin(self.iterations)


CALIBRATION_ITERATIONS = (1, 101)
"""The two slowdowns measured to calibrate: the hook with one iteration, and with 101."""

NOT_CALLED = 1e-4
"""Under this fraction of a generation per iteration (1% over the 100 iterations between the
two calibration runs), the hook is taken for never called; an iteration costs ~0.1%."""


@dataclass(frozen=True)
class Calibration:
    """What the slowdown costs one mode, in instructions per generation: registering and
    calling the hook (with no iteration) and each iteration."""

    hook: float
    per_iteration: float

    @classmethod
    def from_runs(cls, plain: float, one: float, many: float) -> Calibration:
        """From per-generation figures without the slowdown and at CALIBRATION_ITERATIONS."""
        low, high = CALIBRATION_ITERATIONS
        per_iteration = (many - one) / (high - low)
        return cls(hook=one - plain - low * per_iteration, per_iteration=per_iteration)

    def iterations_for(self, fraction: float, plain: float) -> int | None:
        """Iterations that make the slowdown cost `fraction` of `plain` instructions per
        generation (at least 1: the hook alone may cost more); None when the mode never
        calls the hook (no engine: iterations cost nothing, and what the calibration saw is
        the memory layout's noise, under 0.1%)."""
        if self.per_iteration < NOT_CALLED * plain:
            return None
        return max(1, round((fraction * plain - self.hook) / self.per_iteration))

    def injected(self, iterations: int, plain: float) -> float:
        """The fraction of `plain` that `iterations` inject, by this calibration."""
        return (self.hook + iterations * self.per_iteration) / plain
