"""The loop's stalls in a suite's raw runs (pure): one run per mode on a time axis, stalled
time by cause and by function, and how it changed between two suites.

Read from each run's `metrics.stalls` and `series.stalls` (the stall probe,
bench/probes/stalls.py; docs/stalls.md). A run without them (schema 1 or 2, the virtual
clock, `--no-stalls`, a probe that failed) is left out; with no such run at all, every stall
part of the report is.

Stalled time is summed over a mode's runs, by cause and by function (so that causes and
functions add up to the total, and a cause that stalled one run of three still shows), with
the median ± MAD of the runs' totals beside it; a comparison divides the sums by the runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.probes.stalls import CAUSES, by_function
from bench.report.timeline import lag_series, representative_run
from bench.suite.layout import column_label, document_column
from bench.suite.table import Cell, format_cell, make_cell
from bench.summary import format_value

TOP_FUNCTIONS = 5
"""Functions listed per mode, by stalled time summed over the runs."""
ALL_CAUSES = "all causes"
"""The row of a comparison that sums every cause."""


@dataclass(frozen=True, slots=True)
class StallBar:
    """One stall: when the heartbeat was due (s since the probes started), how late, why."""

    start_s: float
    duration_ms: float
    cause: str


@dataclass(frozen=True, slots=True)
class StallTimeline:
    """One run's per-second loop-lag p99 and its stalls, on one time axis."""

    mode: str
    started_at: str
    lag_edges_s: tuple[float, ...]
    lag_p99_ms: tuple[float, ...]
    stalls: tuple[StallBar, ...]
    threshold_ms: float

    @property
    def end_s(self) -> float:
        """Where the time axis ends: the last lag second or the last stall's end."""
        ends = [*self.lag_edges_s[-1:], *(s.start_s + s.duration_ms / 1000 for s in self.stalls)]
        return max(ends, default=1.0)


@dataclass(frozen=True, slots=True)
class CauseRow:
    """One column's stalls at one size, summed over its runs."""

    column: str
    runs: int
    count: int
    total_ms: float
    per_run_ms: Cell
    """Median ± MAD of the runs' stalled time."""
    by_cause_ms: dict[str, float]

    def mean_ms(self, cause: str) -> float:
        """Stalled ms per run of a cause (ALL_CAUSES: of every cause): the sum / the runs."""
        total = self.total_ms if cause == ALL_CAUSES else self.by_cause_ms.get(cause, 0.0)
        return total / self.runs


@dataclass(frozen=True, slots=True)
class FunctionRow:
    """A (cause, function) of one column: its stalled ms summed over the runs."""

    column: str
    cause: str
    function: str
    ms: float
    share: float | None
    """Of the column's stalled time summed over the runs."""


@dataclass(frozen=True, slots=True)
class StallTable:
    """Stalled time by cause and by function at one size."""

    agents: int
    thresholds_ms: tuple[float, ...]
    causes: tuple[CauseRow, ...]
    functions: tuple[FunctionRow, ...]


@dataclass(frozen=True, slots=True)
class StallChange:
    """One column's stalled ms per run of one cause (or ALL_CAUSES), in both suites."""

    column: str
    cause: str
    old_ms: float
    new_ms: float


@dataclass(frozen=True, slots=True)
class StallComparison:
    """Stalled time by cause per mode, old and new, at the largest size both measured."""

    agents: int
    changes: tuple[StallChange, ...]
    warnings: tuple[str, ...] = ()


def has_stalls(document: dict[str, Any]) -> bool:
    """Whether the run has the stall probe's figures and its list of stalls."""
    return isinstance(document["metrics"].get("stalls"), dict) and isinstance(
        document["series"].get("stalls"), list
    )


def stall_size(documents: Sequence[dict[str, Any]]) -> int | None:
    """The largest agent count with a run that has stalls (None: no such run)."""
    return max((d["config"]["agents"] for d in documents if has_stalls(d)), default=None)


def _runs(documents: Sequence[dict[str, Any]], column: str, agents: int) -> list[dict[str, Any]]:
    return [
        d
        for d in documents
        if has_stalls(d) and (document_column(d), d["config"]["agents"]) == (column, agents)
    ]


def stall_timelines(
    documents: Sequence[dict[str, Any]], columns: Sequence[str], agents: int
) -> list[StallTimeline]:
    """Per column, its run with the median lag p99 among those with stalls and lag series
    (the run the timeline plot shows, when every run has both)."""
    found = []
    for column in columns:
        runs = _runs(documents, column, agents)
        picked = representative_run(runs, column, agents, series=("loop_lag_per_second",))
        if picked is not None:
            found.append(stall_timeline(picked))
    return found


def stall_timeline(document: dict[str, Any]) -> StallTimeline:
    """One run's lag per second and stalls."""
    edges, p99 = lag_series(document)
    bars = tuple(
        StallBar(float(s["start_s"]), float(s["duration_ms"]), str(s["cause"]))
        for s in document["series"]["stalls"]
    )
    return StallTimeline(
        mode=document_column(document),
        started_at=document["meta"]["started_at"],
        lag_edges_s=edges,
        lag_p99_ms=p99,
        stalls=bars,
        threshold_ms=float(document["metrics"]["stalls"]["threshold_ms"]),
    )


def stall_table(
    documents: Sequence[dict[str, Any]], columns: Sequence[str], agents: int | None = None
) -> StallTable | None:
    """Stalled time by cause and the top functions per column at `agents` (default: the
    largest size with stalls); None without runs that have stalls."""
    agents = stall_size(documents) if agents is None else agents
    if agents is None:
        return None
    groups = [(c, runs) for c in columns if (runs := _runs(documents, c, agents))]
    if not groups:
        return None
    thresholds = {float(d["metrics"]["stalls"]["threshold_ms"]) for _, runs in groups for d in runs}
    return StallTable(
        agents,
        tuple(sorted(thresholds)),
        tuple(cause_row(column, runs) for column, runs in groups),
        tuple(row for column, runs in groups for row in function_rows(column, runs)),
    )


def cause_row(column: str, runs: Sequence[dict[str, Any]]) -> CauseRow:
    """The runs' stalls, stalled time and time per cause, summed; the median run's total."""
    blocks = [run["metrics"]["stalls"] for run in runs]
    totals = [float(block["total_ms"]) for block in blocks]
    per_run = make_cell(totals)
    assert per_run is not None  # a column here has at least one run
    return CauseRow(
        column,
        len(runs),
        sum(int(block["count"]) for block in blocks),
        sum(totals),
        per_run,
        {cause: sum(float(b["by_cause_ms"].get(cause, 0.0)) for b in blocks) for cause in CAUSES},
    )


def function_rows(
    column: str, runs: Sequence[dict[str, Any]], top: int = TOP_FUNCTIONS
) -> list[FunctionRow]:
    """The `top` (cause, function) pairs by stalled ms summed over the runs (by_function)."""
    totals: Counter[str] = Counter()
    for run in runs:
        totals.update(by_function(run["series"]["stalls"]))
    stalled = sum(totals.values())
    rows = []
    for key, ms in totals.most_common(top):
        cause, _, function = key.partition(": ")
        rows.append(FunctionRow(column, cause, function, ms, ms / stalled if stalled else None))
    return rows


def compare_stalls(
    old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]], columns: Sequence[str]
) -> StallComparison | None:
    """Each column's stalled ms per run, in all and by cause, at the largest size where both
    suites have runs with stalls; a cause that stalled no run of either is left out."""
    common = _configs(old) & _configs(new)
    if not common:
        return None
    agents = max(size for _, size in common)
    changes = []
    for column in (c for c in columns if (c, agents) in common):
        before = cause_row(column, _runs(old, column, agents))
        after = cause_row(column, _runs(new, column, agents))
        causes = [c for c in CAUSES if before.by_cause_ms[c] or after.by_cause_ms[c]]
        changes += [
            StallChange(column, cause, before.mean_ms(cause), after.mean_ms(cause))
            for cause in (ALL_CAUSES, *causes)
        ]
    return StallComparison(agents, tuple(changes), _threshold_warning(old, new))


def _configs(documents: Sequence[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(document_column(d), d["config"]["agents"]) for d in documents if has_stalls(d)}


def _threshold_warning(
    old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]
) -> tuple[str, ...]:
    sides = [
        sorted({float(d["metrics"]["stalls"]["threshold_ms"]) for d in side if has_stalls(d)})
        for side in (old, new)
    ]
    if sides[0] == sides[1]:
        return ()
    before, after = (_thresholds(side) for side in sides)
    return (f"stall threshold differs: {before} (old) vs {after} (new)",)


# The report's text: the same cells for HTML and Markdown.

HEADING = "Stalls: stalled time by cause and by function"
CAUSE_HEADER = ("mode", "runs", "stalls", "stalled", "per run", *CAUSES)
FUNCTION_HEADER = ("mode", "cause", "function", "stalled", "share")
CHANGE_HEADING = "Stalled time by cause"
CHANGE_HEADER = ("mode", "cause", "old (per run)", "new (per run)", "change")


def format_cause_row(row: CauseRow) -> list[str]:
    """mode, runs, stalls, stalled ms and the median run's, then each cause's ms and share."""
    causes = [_with_share(row.by_cause_ms[cause], row.total_ms) for cause in CAUSES]
    counts = [str(row.runs), f"{row.count:,}", _ms(row.total_ms)]
    return [column_label(row.column), *counts, format_cell(row.per_run_ms, "ms"), *causes]


def format_function_row(row: FunctionRow) -> list[str]:
    """mode, cause, function ("-" when no sample named one), its ms and share."""
    share = "-" if row.share is None else f"{row.share:.0%}"
    return [column_label(row.column), row.cause, row.function, _ms(row.ms), share]


def format_change(change: StallChange) -> list[str]:
    """mode, cause, old and new ms per run, and the change."""
    figures = [_ms(change.old_ms), _ms(change.new_ms)]
    percent = percent_change(change.old_ms, change.new_ms)
    return [column_label(change.column), change.cause, *figures, percent]


def percent_change(old: float, new: float) -> str:
    """ "+12.3 %"; "-" when both are 0, "from 0" when only the old one is."""
    if old == 0:
        return "-" if new == 0 else "from 0"
    return f"{(new / old - 1) * 100:+.1f} %"


def _ms(value: float) -> str:
    return "0" if value == 0 else format_value(value, "ms")


def _with_share(value: float, total: float) -> str:
    return _ms(value) + (f" ({value / total:.0%})" if value and total else "")


def caption(table: StallTable) -> str:
    """What the two tables hold, and how the runs were added up."""
    return (
        f"At {table.agents:,} agents, a stall is a loop pass more than "
        f"{_thresholds(table.thresholds_ms)} late (the stall probe: docs/stalls.md). Per "
        "mode, summed over its runs: the stalls, the stalled time, and each cause's time and "
        "share of it (per run: median ± MAD of the runs' stalled time); then the "
        f"{TOP_FUNCTIONS} (cause, function) pairs that stalled the loop longest, their time "
        "summed over the runs and its share of the mode's (function: the frame most of a "
        "stall's samples blame; '-' when none was sampled)."
    )


def change_caption(comparison: StallComparison) -> str:
    """How the comparison's stall rows were made."""
    return (
        f"Stalled ms per run at {comparison.agents:,} agents, in all and by cause: each "
        "suite's sum over its runs divided by their number, and the change (no significance "
        "test: a cause stalls a run a few times or never). A cause that stalled no run of "
        "either suite is left out."
    )


def _thresholds(values: Sequence[float]) -> str:
    return " or ".join(f"{value:g} ms" for value in values)
