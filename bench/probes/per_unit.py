"""What probes with per-unit metrics share: the unit count, which may change after set-up.

A probe is built before the workload exists, with the units asked for; when set-up stops
early (Ctrl-C after 40,000 of 90,000 agents) the runner corrects `units` to what was set
up, so per-unit figures divide by the units that caused the growth.
"""

from __future__ import annotations

from bench.probes.base import Probe


class PerUnitProbe(Probe):
    """A probe whose metrics are divided by a count of units (agents, engines, ...)."""

    _units: int

    @property
    def units(self) -> int:
        """How many units the per-unit metrics divide by (at least 1)."""
        return self._units

    @units.setter
    def units(self, units: int) -> None:
        if units < 1:
            raise ValueError(f"units must be at least 1, got {units}")
        self._units = units

    def _per_unit(self, before: float | None, after: float | None) -> float | None:
        """Growth from `before` to `after` per unit; None when either is missing."""
        return None if before is None or after is None else (after - before) / self._units
