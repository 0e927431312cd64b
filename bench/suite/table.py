"""The suite's comparison tables: per metric, rows = agents, columns = modes, plus ratios.

Pure functions over result documents, so they are tested with plain data. A cell is the
median of the repeats ± their median absolute deviation (pyperf's "median +- MAD").
A column is a mode, or a mode in another layout or on the virtual clock, "shared@mqtt-2w"
(bench/suite/layout.py): the ratios are of the plain modes' columns. A table has a row
for each agent count at which its metric was measured: the instruction counts are made at
one small size of their own (bench/suite/instructions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.metrics import HEADLINE, INSTRUCTIONS, Metric
from bench.stats import median_mad
from bench.suite.layout import document_column
from bench.summary import format_spread, format_value
from bench.workload import ratio_columns

SUITE_METRICS: tuple[Metric, ...] = (*HEADLINE, INSTRUCTIONS)
"""What a suite holds, in its tables' order: the headline metrics of its timed runs, then
the instruction counts of its own valgrind runs."""


@dataclass(frozen=True, slots=True)
class Cell:
    """The repeats of one (metric, mode, agents)."""

    median: float
    mad: float
    n: int


@dataclass(frozen=True, slots=True)
class Row:
    """One agent count: a cell per mode and each ratio of medians."""

    agents: int
    cells: dict[str, Cell | None]
    ratios: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class MetricTable:
    """One metric across the whole matrix."""

    metric: Metric
    modes: tuple[str, ...]
    """The columns: modes, and modes in other layouts ("shared@mqtt-2w")."""
    rows: list[Row]

    @property
    def ratio_names(self) -> list[str]:
        """The ratios whose two modes are both in this table, e.g. "per_agent/shared".

        Each mode declares the ratios it heads (`Mode.ratios_to`), with what each one tells.
        """
        return [f"{a}/{b}" for a, b in ratio_columns() if a in self.modes and b in self.modes]


def make_cell(values: list[float]) -> Cell | None:
    """Median ± median absolute deviation of the repeats (None without any)."""
    if not values:
        return None
    median, mad = median_mad(values)
    return Cell(median, mad, len(values))


def ratio(numerator: Cell | None, denominator: Cell | None) -> float | None:
    """numerator / denominator of the medians, None when undefined."""
    if numerator is None or denominator is None or denominator.median == 0:
        return None
    return numerator.median / denominator.median


def metric_tables(
    documents: list[dict[str, Any]],
    modes: tuple[str, ...],
    agents: tuple[int, ...],
    metrics: tuple[Metric, ...] = SUITE_METRICS,
    counts: list[dict[str, Any]] | None = None,
) -> list[MetricTable]:
    """One table per metric that any document has, or any instruction count's record (which
    holds `config` and `metrics` as a document does: bench.suite.instructions.suite_record)."""
    found = [*documents, *(counts or [])]
    values = {metric.path: _values_by_config(found, metric) for metric in metrics}
    sizes = dict.fromkeys([*agents, *(record["config"]["agents"] for record in counts or [])])
    return tables_from_values(values, modes, tuple(sizes), metrics)


def tables_from_values(
    values: dict[str, dict[tuple[str, int], list[float]]],
    modes: tuple[str, ...],
    agents: tuple[int, ...],
    metrics: tuple[Metric, ...] = SUITE_METRICS,
) -> list[MetricTable]:
    """One table per metric with values, a row per agent count (of `agents`, in order) where
    it has some; `values[path][(mode, agents)]` holds the repeats."""
    tables = []
    for metric in metrics:
        found = values.get(metric.path)
        if found:
            sizes = {size for _, size in found}
            rows = [_row(a, modes, found) for a in agents if a in sizes]
            tables.append(MetricTable(metric, modes, rows))
    return tables


def render_markdown(tables: list[MetricTable]) -> str:
    """The tables as GitHub Markdown, one section per metric."""
    parts = []
    for table in tables:
        header = ["agents", *table.modes, *table.ratio_names]
        lines = [f"### {table.metric.label} ({table.metric.unit})", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---:|" * len(header))
        for row in table.rows:
            lines.append("| " + " | ".join(format_row(table, row)) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def format_row(table: MetricTable, row: Row) -> list[str]:
    """The row's cells as text: agents, "median ± mad" per mode, then the ratios."""
    unit = table.metric.unit
    cells = [format_cell(row.cells[mode], unit) for mode in table.modes]
    ratios = [_format_ratio(row.ratios.get(name)) for name in table.ratio_names]
    return [f"{row.agents:,}", *cells, *ratios]


def _values_by_config(documents: list[dict[str, Any]], metric: Metric) -> dict[tuple, list]:
    values: dict[tuple[str, int], list[float]] = {}
    for document in documents:
        value = metric.value(document)
        if value is not None:
            key = (document_column(document), document["config"]["agents"])
            values.setdefault(key, []).append(value)
    return values


def _row(agents: int, modes: tuple[str, ...], values: dict[tuple, list]) -> Row:
    cells = {mode: make_cell(values.get((mode, agents), [])) for mode in modes}
    ratios = {f"{a}/{b}": ratio(cells.get(a), cells.get(b)) for a, b in ratio_columns()}
    return Row(agents, cells, ratios)


def format_cell(cell: Cell | None, unit: str) -> str:
    """ "12.30 ± 1.20 ms" (one repeat: just the value; none: "-")."""
    if cell is None:
        return "-"
    if cell.n == 1:
        return format_value(cell.median, unit)
    return format_spread(cell.median, cell.mad, unit)


def _format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"
