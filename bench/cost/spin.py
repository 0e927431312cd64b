"""A deterministic, instruction-based slowdown for valgrind runs (`child --slowdown-iterations`).

Unlike `bench.slowdown` (which spins on CPU time, so its cost is whatever the clock says),
this one does a fixed amount of work: a pure-Python loop of `iterations` steps after every
generation, the same instructions on every run.
"""

from __future__ import annotations

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
