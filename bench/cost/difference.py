"""Steady state by difference (pure): what two runs that differ in one thing cost per unit.

Start-up, imports and set-up cost the same in a run of D1 seconds and one of D2 > D1
(same seed, same agents), so (I(D2) - I(D1)) / (G(D2) - G(D1)) is the instructions of the
extra generations alone; likewise per message, and per agent between two set-up-only runs
at two agent counts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.errors import BenchError


@dataclass(frozen=True)
class Sample:
    """One measured child run: its instructions and the work it reports doing."""

    instructions: int
    counts: Mapping[str, int]


def per_unit(short: Sample, long: Sample, unit: str) -> float:
    """(long - short) instructions per extra `unit` (a key of the counts: "generations")."""
    extra = long.counts[unit] - short.counts[unit]
    if extra <= 0:
        raise BenchError(
            f"the longer run did no more {unit} than the shorter ({short.counts[unit]} vs "
            f"{long.counts[unit]}): lengthen --duration"
        )
    return (long.instructions - short.instructions) / extra


@dataclass(frozen=True)
class Figures:
    """The steady-state costs of one measurement, instructions per unit."""

    per_generation: float
    per_message: float
    per_agent_setup: float


def figures(short: Sample, long: Sample, few: Sample, many: Sample) -> Figures:
    """Per generation and per message from the short/long runs, per agent set-up from the
    two set-up-only runs (in either order)."""
    smaller, larger = sorted((few, many), key=lambda sample: sample.counts["agents"])
    return Figures(
        per_generation=per_unit(short, long, "generations"),
        per_message=per_unit(short, long, "messages"),
        per_agent_setup=per_unit(smaller, larger, "agents"),
    )


def spread(values: Sequence[float]) -> float:
    """(max - min) / median of repeated figures: 0 when identical."""
    if not values:
        raise ValueError("no values")
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def setup_agents(agents: int) -> int:
    """The other agent count of the set-up difference: the square of half the side of
    `agents` (a square), or of twice it when half would be below 3 (a 3x3 grid)."""
    side = math.isqrt(agents)
    other = side // 2 if side // 2 >= 3 else side * 2
    return other * other
