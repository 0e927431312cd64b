"""How a metric grows with the number of agents: medians per mode and a log-log slope (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy

from bench.suite.table import MetricTable


@dataclass(frozen=True, slots=True)
class ScalingLine:
    """One mode's medians (and MADs) against agent count, with the fitted log-log slope."""

    mode: str
    agents: tuple[int, ...]
    medians: tuple[float, ...]
    mads: tuple[float, ...]
    slope: float | None


def fit_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log y on log x (1 = linear growth); None under two usable points."""
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    logs = numpy.log(numpy.array(points, dtype=float))
    slope, _intercept = numpy.polyfit(logs[:, 0], logs[:, 1], 1)
    return float(slope)


def scaling_lines(table: MetricTable) -> list[ScalingLine]:
    """A line per mode with positive medians (a log axis cannot show zeros)."""
    lines = []
    for mode in table.modes:
        cells = [(row.agents, row.cells.get(mode)) for row in table.rows]
        points = [(a, c.median, c.mad) for a, c in cells if c is not None and c.median > 0]
        if points:
            agents, medians, mads = zip(*points, strict=True)
            lines.append(ScalingLine(mode, agents, medians, mads, fit_slope(agents, medians)))
    return lines


def describe_slope(slope: float | None) -> str:
    """ "1.02" for a legend, "n/a" when no slope could be fitted."""
    return "n/a" if slope is None or math.isnan(slope) else f"{slope:.2f}"
