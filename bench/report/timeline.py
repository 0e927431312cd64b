"""One representative run per mode, as time series on a shared clock (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.metrics import BY_PATH
from bench.suite.layout import document_column

_LAG_P99 = BY_PATH["loop_lag.p99_ms"]
_INTERVAL_S = 1.0  # the convergence monitor's sampling interval


@dataclass(frozen=True, slots=True)
class Timeline:
    """A run's per-second lag p99, flashes and order parameter R (seconds since probes started).

    The per-second series come with the edges of their intervals (one more edge than values):
    the lag probe's second k covers [k, k+1); a convergence sample stamped t counts the
    flashes of the second before t. R is a sample at its instant.
    """

    mode: str
    started_at: str
    lag_edges_s: tuple[float, ...]
    lag_p99_ms: tuple[float, ...]
    flash_edges_s: tuple[float, ...]
    flashes_per_s: tuple[float, ...]
    r_t_s: tuple[float, ...]
    r: tuple[float, ...]


def representative_run(
    documents: Sequence[dict[str, Any]],
    mode: str,
    agents: int,
    series: Sequence[str] = ("loop_lag_per_second", "convergence"),
) -> dict[str, Any] | None:
    """Of the repeats with every one of `series`, the one with the median lag p99 (the lower
    one of two): the run the report's per-run plots show."""
    runs = [
        doc
        for doc in documents
        if (document_column(doc), doc["config"]["agents"]) == (mode, agents)
        and all(name in doc["series"] for name in series)
    ]
    runs.sort(key=lambda doc: _LAG_P99.value(doc) or 0.0)
    return runs[(len(runs) - 1) // 2] if runs else None


def timelines(
    documents: Sequence[dict[str, Any]], modes: Sequence[str], agents: int
) -> list[Timeline]:
    """A timeline per mode that has a run with series at `agents`."""
    found = [representative_run(documents, mode, agents) for mode in modes]
    return [timeline(doc) for doc in found if doc is not None]


def timeline(document: dict[str, Any]) -> Timeline:
    """The three series of one run; a missing per-second value becomes NaN (a gap in a plot)."""
    convergence = document["series"]["convergence"]
    stamps = _floats(convergence["t_s"])
    lag_edges_s, lag_p99_ms = lag_series(document)
    return Timeline(
        mode=document_column(document),
        started_at=document["meta"]["started_at"],
        lag_edges_s=lag_edges_s,
        lag_p99_ms=lag_p99_ms,
        flash_edges_s=(max(0.0, stamps[0] - _INTERVAL_S), *stamps) if stamps else (),
        flashes_per_s=_floats(convergence["flashes_per_s"]),
        r_t_s=stamps,
        r=_floats(convergence["r"]),
    )


def lag_series(document: dict[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(edges, p99s) of the run's per-second loop lag: second k covers [k, k+1)."""
    lag = document["series"]["loop_lag_per_second"]
    seconds = _floats(lag["t_s"])
    return ((*seconds, seconds[-1] + 1.0) if seconds else ()), _floats(lag["p99_ms"])


def _floats(values: Sequence[float | None]) -> tuple[float, ...]:
    return tuple(math.nan if v is None else float(v) for v in values)
