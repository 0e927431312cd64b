"""The child's segments and the figures they give (pure).

The child ends each segment with a marker, and callgrind writes one profile per segment,
so each segment's instructions are its own: start-up, imports and set-up never mix with
the measured steady state. Per generation and per message come from the measured
segment; per agent set-up is the difference of two set-ups, so their fixed cost cancels.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.cost.callgrind import Profile
from bench.errors import BenchError

MARKER = "sched_yield"
"""The C function the child calls at the end of each segment (`os.sched_yield()`, which does
nothing that matters here): callgrind, told `--dump-before=sched_yield`, dumps a profile."""

SEGMENTS = ("start-up", "set-up-other", "take-down-other", "set-up", "warm-up", "measured")
"""The child's segments, in order."""

RUN_COUNTS = ("generations", "steps", "messages", "flashes")
"""What the warm-up and measured segments count."""


@dataclass(frozen=True)
class Segment:
    """One segment of a child run: its name, the counts it reported, its profile."""

    name: str
    counts: Mapping[str, int]
    profile: Profile

    @property
    def instructions(self) -> int:
        """Instructions executed in this segment."""
        return self.profile.total


def pair_up(reported: Sequence[Mapping[str, object]], profiles: Sequence[Profile]) -> list[Segment]:
    """The child's reported segments (in order) with the profiles of their parts; one part
    per segment, or the marker was called by something else too."""
    if len(reported) != len(profiles):
        raise BenchError(
            f"the child reported {len(reported)} segments but callgrind wrote {len(profiles)} "
            "parts: something else called the marker function"
        )
    return [
        Segment(
            str(entry["name"]),
            {key: int(value) for key, value in entry.items() if key != "name"},  # type: ignore[call-overload]
            profile,
        )
        for entry, profile in zip(reported, profiles, strict=True)
    ]


@dataclass(frozen=True)
class Figures:
    """The steady-state costs of one measurement, instructions per unit."""

    per_generation: float
    per_message: float
    per_agent_setup: float


def figures(segments: Sequence[Segment]) -> Figures:
    """Per generation and per message of the measured segment, per agent of set-up."""
    by_name = {segment.name: segment for segment in segments}
    measured, other, mine = by_name["measured"], by_name["set-up-other"], by_name["set-up"]
    return Figures(
        per_generation=per_unit(measured, "generations"),
        per_message=per_unit(measured, "messages"),
        per_agent_setup=(mine.instructions - other.instructions)
        / (mine.counts["agents"] - other.counts["agents"]),
    )


def per_unit(segment: Segment, unit: str) -> float:
    """The segment's instructions per `unit` it did (a key of its counts)."""
    done = segment.counts.get(unit, 0)
    if done <= 0:
        raise BenchError(f"the {segment.name} segment did no {unit}: lengthen --duration")
    return segment.instructions / done


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
