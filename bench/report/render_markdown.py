"""The report as Markdown: the same text and tables, plots as PNG files beside it."""

from __future__ import annotations

from collections.abc import Sequence

from bench.markdown import md_escape
from bench.report import stalls
from bench.report.build import Comparison, Plot, Report
from bench.report.layouts import HEADER as SCALE_HEADER
from bench.report.layouts import HEADING as SCALE_HEADING
from bench.report.layouts import ScaleTable
from bench.report.layouts import caption as scale_caption
from bench.report.layouts import format_row as format_scale_row
from bench.report.render_html import change_row
from bench.suite.table import MetricTable, format_row

FILES_DIR = "report_files"
"""Where the PNGs go, beside report.md."""


def plot_path(plot: Plot) -> str:
    """The PNG's path relative to report.md."""
    return f"{FILES_DIR}/{plot.name}.png"


def render_markdown(report: Report) -> str:
    """The whole document."""
    parts = [
        f"# {md_escape(report.title)}",
        "\n".join(f"- **{md_escape(k)}:** {md_escape(v)}" for k, v in report.facts),
        "## Summary\n\n" + _bullets(report.summary),
    ]
    if report.comparison:
        parts.append(
            f"Since {md_escape(report.comparison.old_label)}:\n\n"
            + _bullets(report.comparison.sentences)
        )
    parts += [f"> {md_escape(note)}" for note in report.notes]
    if report.plots:
        parts.append("## Plots\n\n" + "\n\n".join(_image(plot) for plot in report.plots))
    if report.scale:
        parts.append(_scale(report.scale))
    if report.stalls:
        parts.append(_stalls(report.stalls))
    if report.comparison:
        parts.append(_comparison(report.comparison))
    parts.append("## Tables (median ± MAD of the repeats)\n\n" + _tables(report.tables))
    parts.append(_metadata(report.metadata))
    return "\n\n".join(parts) + "\n"


def _scale(table: ScaleTable) -> str:
    # mode, layout and status are words (left), the rest numbers (right)
    rows = [format_scale_row(row) for row in table.rows]
    aligned = _words_left(SCALE_HEADER, rows, {0, 1, len(SCALE_HEADER) - 1})
    caption = md_escape(scale_caption(table))
    return f"## {SCALE_HEADING}\n\n{caption}\n\n{aligned}"


def _words_left(header: Sequence[str], rows: Sequence[Sequence[str]], words: set[int]) -> str:
    """A table whose columns `words` are left-aligned, the rest (numbers) right-aligned."""
    lines = _table(header, rows).splitlines()
    lines[1] = "|" + "".join("---|" if i in words else "---:|" for i in range(len(header)))
    return "\n".join(lines)


def _stalls(table: stalls.StallTable) -> str:
    causes = [stalls.format_cause_row(row) for row in table.causes]
    functions = [stalls.format_function_row(row) for row in table.functions]
    return (
        f"## {stalls.HEADING}\n\n{md_escape(stalls.caption(table))}\n\n"
        + _words_left(stalls.CAUSE_HEADER, causes, {0})
        + "\n\n"
        + _words_left(stalls.FUNCTION_HEADER, functions, {0, 1, 2})
    )


def _stall_changes(comparison: stalls.StallComparison) -> str:
    rows = [stalls.format_change(change) for change in comparison.changes]
    return (
        f"### {stalls.CHANGE_HEADING}\n\n{md_escape(stalls.change_caption(comparison))}\n\n"
        + _words_left(stalls.CHANGE_HEADER, rows, {0, 1})
    )


def _bullets(sentences: Sequence[str]) -> str:
    return "\n".join(f"- {md_escape(s)}" for s in sentences)


def _image(plot: Plot) -> str:
    return f"![{md_escape(plot.name)}]({plot_path(plot)})\n\n*{md_escape(plot.caption)}*"


def _comparison(comparison: Comparison) -> str:
    lines = ["## Comparison", ""]
    lines += [f"> **Set-ups differ:** {md_escape(w)}\n" for w in comparison.warnings]
    lines.append(
        f"Old: {md_escape(comparison.old_label)}; new: {md_escape(comparison.new_label)}. "
        f"Change: ratio of the medians. Significance: `{comparison.significance_source}`."
    )
    if comparison.plot:
        lines += ["", _image(comparison.plot)]
    header = ["metric", "mode", "agents", "old", "new", "change", "t", "verdict"]
    rows = [[text for text, _ in change_row(c)] for c in comparison.changes]
    found = "\n".join(lines) + "\n\n" + _table(header, rows)
    if comparison.stalls:
        found += "\n\n" + _stall_changes(comparison.stalls)
    return found


def _tables(tables: Sequence[MetricTable]) -> str:
    # The tables of the suite's latest.md (bench.suite.table), every cell escaped: mode
    # names come from the suite's benchmark names, which any file may hold.
    return "\n\n".join(_metric_table(table) for table in tables)


def _metric_table(table: MetricTable) -> str:
    heading = f"### {md_escape(table.metric.label)} ({md_escape(table.metric.unit)})"
    header = ["agents", *table.modes, *table.ratio_names]
    rows = [format_row(table, row) for row in table.rows]
    return f"{heading}\n\n{_table(header, rows, align='---:|')}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "---|") -> str:
    lines = [
        "| " + " | ".join(md_escape(cell) for cell in header) + " |",
        "|" + align * len(header),
    ]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _metadata(rows: Sequence[tuple[str, str]]) -> str:
    return "## Metadata\n\n" + _table(["key", "value"], [[k, v] for k, v in rows])
