"""One cost measurement: a child run under callgrind, read as figures and per-function costs.

What the gate, the suite, asv and `bench cost` call; two measurements run at a time (the
counts do not depend on contention, and the machine has two cores).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.cost.callgrind import FunctionCost, per_generation
from bench.cost.segments import Figures, Segment, figures
from bench.cost.valgrind import ChildRun, find_valgrind, measure

PARALLEL = 2
"""Children under valgrind at a time."""


@dataclass(frozen=True)
class Cost:
    """What one child run cost: the figures, the C functions per generation, the segments."""

    child: ChildRun
    figures: Figures
    functions: list[FunctionCost]
    segments: list[Segment]
    command: list[str]

    def self_costs(self) -> dict[str, float]:
        """C function name -> self instructions per generation."""
        return {cost.name: cost.self_per_generation for cost in self.functions}


def measure_cost(child: ChildRun, valgrind: str | None = None, cwd: Path | None = None) -> Cost:
    """Run `child` under callgrind (from `cwd`: the bench/ and cascade/ it imports)."""
    measured = measure(child, valgrind, cwd)
    done = figures(measured.segments)
    window = measured.segments[-1]
    functions = per_generation(window.profile, window.counts["generations"])
    return Cost(child, done, functions, measured.segments, measured.command)


def measure_costs(
    children: Sequence[ChildRun], valgrind: str | None = None, cwd: Path | None = None
) -> list[Cost]:
    """`measure_cost` of each child, PARALLEL at a time, in the order given."""
    valgrind = valgrind or find_valgrind()
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda child: measure_cost(child, valgrind, cwd), children))
