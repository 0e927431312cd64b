"""The firefly workload's parameters, checked before any work starts."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import BenchError


@dataclass(frozen=True, slots=True)
class FireflyConfig:
    """Every constant of one firefly run; all of it goes into the result's `config`."""

    agents: int = 2500
    period: float = 5.0
    nudge: float = 0.2
    duration: float = 20.0
    seed: int = 1
    refractory_fraction: float = 0.2
    jitter: float = 0.1
    zones: int = 1
    """Stripes of rows, each with its own inbox topics (`topology`): one per worker process."""

    @property
    def side(self) -> int:
        """The side of the square toroidal grid the agents sit on."""
        return math.isqrt(self.agents)

    @property
    def refractory(self) -> float:
        """Seconds after a flash during which an agent ignores its neighbours."""
        return self.refractory_fraction * self.period

    def as_dict(self) -> dict[str, Any]:
        """The config as plain data, derived values included."""
        return {**asdict(self), "side": self.side, "refractory": self.refractory}


def make_config(
    *,
    agents: int | None = None,
    grid_side: int | None = None,
    period: float = 5.0,
    nudge: float = 0.2,
    duration: float = 20.0,
    seed: int = 1,
    offer_grid_side: bool = True,
) -> FireflyConfig:
    """Build a config from user input, or raise BenchError naming the problem and the fix.

    `offer_grid_side`: whether the command has a --grid-side to suggest (the suite has not).
    """
    count = _agent_count(agents, grid_side, offer_grid_side)
    _require(period > 0 and math.isfinite(period), f"--period must be > 0 seconds, got {period}")
    _require(
        duration > 0 and math.isfinite(duration), f"--duration must be > 0 seconds, got {duration}"
    )
    _require(
        0 <= nudge < period,
        f"--nudge must be in [0, period) = [0, {period}) seconds, got {nudge}",
    )
    return FireflyConfig(count, period, nudge, duration, seed)


def _agent_count(agents: int | None, grid_side: int | None, offer_grid_side: bool) -> int:
    if grid_side is not None:
        _require(grid_side >= 3, f"--grid-side must be at least 3, got {grid_side}")
        _require(
            agents is None or agents == grid_side * grid_side,
            f"--agents {agents} does not match --grid-side {grid_side} "
            f"({grid_side}x{grid_side} = {grid_side * grid_side}); give only one of them",
        )
        return grid_side * grid_side
    count = 2500 if agents is None else agents
    _require(count >= 9, f"--agents must be at least 9 (a 3x3 grid), got {count}")
    side = math.isqrt(count)
    if side * side != count:
        lower, upper = side * side, (side + 1) ** 2
        raise BenchError(
            f"--agents must be a square number (agents sit on a square grid), got {count}: "
            f"the nearest are {lower} ({side}x{side}) and {upper} ({side + 1}x{side + 1})"
            + ("; or give --grid-side" if offer_grid_side else "")
        )
    return count


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)
