"""The suite's layouts side by side: the scaling table, agents per core, delivery (pure).

Only for a suite with configurations that are not one local process (MQTT, worker
processes: bench/suite/layout.py), read from the raw run documents, since what it shows
(cores used, delivery latency, the broker's rates and CPU) is not in the pyperf suite.
Every figure is the median of a configuration's repeats (`bench.stats.median_mad`).

Flashes per second are also shown against the physics' reference: the flashes per second of
the same swarm on the virtual clock, where nothing is slowed down by the machine (an
unloaded swarm flashes agents / (period x mean cycle fraction) times a second). The `scale`
profile measures it (one virtual-clock run of the floor mode per size, `raw@virtual`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.schema import status_of
from bench.stats import median_mad
from bench.suite.layout import (
    LOCAL,
    column_key,
    document_column,
    document_layout,
    is_virtual,
    split_column,
    tag_of,
    tag_words,
)
from bench.summary import format_value
from bench.workload import MODES, floor_mode

_FIELDS: dict[str, tuple[str, str]] = {
    "flashes_per_s": ("work", "flashes_per_s"),
    "cpu_us_per_generation": ("work", "cpu_us_per_generation"),
    "cores": ("cpu", "cpu_utilisation"),
    "lag_p99_ms": ("loop_lag", "p99_ms"),
    "delivery_p50_ms": ("delivery", "p50_ms"),
    "delivery_p99_ms": ("delivery", "p99_ms"),
    "broker_in_per_s": ("broker", "messages_in_per_s"),
    "broker_out_per_s": ("broker", "messages_out_per_s"),
    "broker_cores": ("broker", "cpu_utilisation"),
}
"""Each figure of a row: where it lives in a result document (`metrics.<block>.<key>`)."""

HEADING = "Scaling: transports and worker processes"
HEADER = (
    "mode", "layout", "agents", "runs", "flashes/s", "of reference", "CPU per generation",
    "cores used", "agents per core", "worst lag p99", "delivery p50", "delivery p99",
    "broker in/s", "broker out/s", "broker CPU (cores)", "status",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScaleRow:
    """One configuration (mode, layout, agents): the medians of its repeats."""

    column: str
    agents: int
    runs: int
    flashes_per_s: float | None
    of_reference: float | None
    """flashes_per_s / the reference's at this size (1.0 = the physics' own rate)."""
    cpu_us_per_generation: float | None
    cores: float | None
    """Cores the workload's processes used: `metrics.cpu.cpu_utilisation` (summed over the
    workers of a sharded run; the broker's are apart)."""
    agents_per_core: float | None
    """agents / cores used, per run, then the median."""
    lag_p99_ms: float | None
    """Event-loop lag p99 of the run; of its slowest worker in a sharded run."""
    delivery_p50_ms: float | None
    delivery_p99_ms: float | None
    broker_in_per_s: float | None
    broker_out_per_s: float | None
    broker_cores: float | None
    status: str
    """How the repeats ended: "3 complete", "2 complete, 1 degraded"."""

    @property
    def mode(self) -> str:
        """The mode of the row's column."""
        return split_column(self.column)[0]

    @property
    def tag(self) -> str:
        """The layout's tag ("" = one local process)."""
        return split_column(self.column)[1]


@dataclass(frozen=True, slots=True)
class ScaleTable:
    """Every real-clock configuration of a suite with layouts, and the reference it used."""

    rows: tuple[ScaleRow, ...]
    reference: dict[int, float]
    """Flashes per second of the reference column per agent count (empty: none measured)."""
    reference_column: str | None


@dataclass(frozen=True, slots=True)
class PerCoreLine:
    """One column's agents per core against agents (medians)."""

    column: str
    agents: tuple[int, ...]
    agents_per_core: tuple[float, ...]


def has_layouts(documents: Sequence[dict[str, Any]]) -> bool:
    """Does any run of the suite go through MQTT or worker processes?"""
    return any(document_layout(document) != LOCAL for document in documents)


def reference_column() -> str | None:
    """The column of the physics' reference: the floor mode on the virtual clock."""
    floor = floor_mode()
    return None if floor is None else column_key(floor, tag_of(LOCAL, "virtual"))


def scale_table(documents: Sequence[dict[str, Any]], columns: Sequence[str]) -> ScaleTable | None:
    """The table of a suite with layouts (None without any): a row per real-clock
    (column, agents) that has runs, in the order of `columns`, then of agents."""
    if not has_layouts(documents):
        return None
    by_config: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for document in documents:
        key = (document_column(document), int(document["config"]["agents"]))
        by_config.setdefault(key, []).append(document)
    reference_key = reference_column()
    reference = {
        agents: median
        for (column, agents), runs in by_config.items()
        if column == reference_key
        and (median := _median([_number(d, "work", "flashes_per_s") for d in runs])) is not None
    }
    rows = [
        _row(column, agents, by_config[(column, agents)], reference.get(agents))
        for column in columns
        if not is_virtual(column)
        for agents in sorted({a for c, a in by_config if c == column})
    ]
    return ScaleTable(tuple(rows), reference, reference_key if reference else None)


def _row(column: str, agents: int, runs: list[dict[str, Any]], reference: float | None) -> ScaleRow:
    figures = {
        name: _median([_number(d, block, key) for d in runs])
        for name, (block, key) in _FIELDS.items()
    }
    flashes = figures["flashes_per_s"]
    return ScaleRow(
        column=column,
        agents=agents,
        runs=len(runs),
        of_reference=flashes / reference if flashes is not None and reference else None,
        agents_per_core=_median([_per_core(d) for d in runs]),
        status=describe_statuses(runs),
        **figures,
    )


def describe_statuses(documents: Sequence[dict[str, Any]]) -> str:
    """ "3 complete", "2 complete, 1 degraded": the commonest first."""
    counts = Counter(status_of(document) for document in documents)
    return ", ".join(f"{count} {status}" for status, count in counts.most_common())


def per_core_lines(table: ScaleTable) -> list[PerCoreLine]:
    """A line per column: its agents per core at each size it was measured at."""
    lines = []
    for column in dict.fromkeys(row.column for row in table.rows):
        points = [
            (row.agents, row.agents_per_core)
            for row in table.rows
            if row.column == column and row.agents_per_core is not None
        ]
        if points:
            agents, values = zip(*points, strict=True)
            lines.append(PerCoreLine(column, agents, values))
    return lines


def scale_sentences(table: ScaleTable) -> list[str]:
    """One sentence per mode at the largest size measured in a layout: agents per busy core
    in each layout, with the share of the reference and the delivery p99."""
    laid_out = [row for row in table.rows if row.tag]
    if not laid_out:
        return []
    agents = max(row.agents for row in laid_out)
    sentences = []
    for mode in dict.fromkeys(row.mode for row in table.rows):
        parts = [
            f"{tag_words(row.tag)}: {_plain(row.agents_per_core, 0)} agents per busy core"
            + (f" ({', '.join(notes)})" if (notes := _row_notes(row)) else "")
            for row in table.rows
            if row.mode == mode and row.agents == agents
        ]
        if parts:
            sentences.append(f"At {agents:,} agents, {mode_name(mode)}: {'; '.join(parts)}.")
    return sentences


def _row_notes(row: ScaleRow) -> list[str]:
    notes = []
    if row.of_reference is not None:
        notes.append(f"flashes at {row.of_reference:.1%} of the physics' reference")
    if row.delivery_p99_ms is not None:
        notes.append(f"delivery p99 {format_value(row.delivery_p99_ms, 'ms')}")
    return notes


def mode_name(mode: str) -> str:
    """The mode's own label ("the shared engine"); `mode <name>` for one not registered."""
    return MODES[mode].label if mode in MODES else f"mode {mode}"


def format_row(row: ScaleRow) -> list[str]:
    """The row as text, in the order of HEADER."""
    return [
        row.mode,
        tag_words(row.tag),
        f"{row.agents:,}",
        str(row.runs),
        format_value(row.flashes_per_s, "1/s"),
        "-" if row.of_reference is None else f"{row.of_reference:.1%}",
        format_value(row.cpu_us_per_generation, "us"),
        _plain(row.cores, 2),
        _plain(row.agents_per_core, 0),
        format_value(row.lag_p99_ms, "ms"),
        format_value(row.delivery_p50_ms, "ms"),
        format_value(row.delivery_p99_ms, "ms"),
        _plain(row.broker_in_per_s, 0),
        _plain(row.broker_out_per_s, 0),
        _plain(row.broker_cores, 2),
        row.status,
    ]


def caption(table: ScaleTable) -> str:
    """What the table shows, and which reference it used."""
    reference = (
        f"the flashes per second of {table.reference_column} at the same size (one "
        "virtual-clock run: the physics' own rate, nothing slowed down)"
        if table.reference_column
        else "none: the suite has no virtual-clock reference run (the scale profile "
        "measures one per size)"
    )
    return (
        "Each configuration's medians over its repeats. Cores used: CPU seconds of the "
        "workload's processes per second (all workers summed); agents per core: agents / "
        "cores used; worst lag p99: the slowest worker's; delivery: publish to the "
        "subscriber's callback; broker: its $SYS message rates and, when the harness started "
        f"it, its CPU in cores. Of reference: {reference}."
    )


def _number(document: dict[str, Any], block: str, key: str) -> float | None:
    value = document.get("metrics", {}).get(block, {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _per_core(document: dict[str, Any]) -> float | None:
    cores = _number(document, "cpu", "cpu_utilisation")
    agents = _number(document, "work", "agents") or float(document["config"]["agents"])
    return agents / cores if cores else None


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return median_mad(present)[0] if present else None


def _plain(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"
