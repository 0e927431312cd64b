"""The report as ONE self-contained HTML page: inline CSS, plots as data: URIs, no script.

Every string is escaped here (results carry commit messages, command lines, host names),
and the page's Content-Security-Policy forbids loading anything from anywhere.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from bench.report import stalls
from bench.report.build import Comparison, Plot, Report
from bench.report.compare import Change
from bench.report.layouts import HEADER as SCALE_HEADER
from bench.report.layouts import HEADING as SCALE_HEADING
from bench.report.layouts import ScaleTable
from bench.report.layouts import caption as scale_caption
from bench.report.layouts import format_row as format_scale_row
from bench.suite.table import MetricTable, format_cell, format_row

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       margin: 0 auto; max-width: 1180px; padding: 1rem 2rem 4rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.note { background: #f3f6fa; border-left: 4px solid #8aa4c8; padding: .4rem .8rem; }
.warning { background: #fff4e5; border-left: 4px solid #e69500; padding: .4rem .8rem; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.better { color: #1a7f37; font-weight: 600; } td.worse { color: #c62828; font-weight: 600; }
code { font-size: .85rem; word-break: break-all; }
"""


def render_html(report: Report) -> str:
    """The whole page."""
    body = [
        f"<h1>{escape(report.title)}</h1>",
        _facts(report.facts),
        _summary(report),
        *(f'<p class="note">{escape(note)}</p>' for note in report.notes),
        _section("plots", "Plots", [_figure(plot) for plot in report.plots]),
        _scale(report.scale) if report.scale else "",
        _stalls(report.stalls) if report.stalls else "",
        _comparison(report.comparison) if report.comparison else "",
        _section(
            "tables", "Tables (median ± MAD of the repeats)", [_table(t) for t in report.tables]
        ),
        _metadata(report.metadata),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        "<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _section(anchor: str, heading: str, parts: Sequence[str]) -> str:
    if not parts:
        return ""
    return (
        f'<section id="{anchor}">\n<h2>{escape(heading)}</h2>\n' + "\n".join(parts) + "\n</section>"
    )


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="facts">{items}</dl>'


def _summary(report: Report) -> str:
    parts = [_list(report.summary)]
    if report.comparison:
        parts += [
            f"<p>Since {escape(report.comparison.old_label)}:</p>",
            _list(report.comparison.sentences),
        ]
    return _section("summary", "Summary", parts)


def _list(sentences: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(s)}</li>" for s in sentences) + "</ul>"


def _figure(plot: Plot) -> str:
    return (
        f'<figure id="plot-{escape(plot.name)}"><img src="{data_uri(plot.png)}" '
        f'alt="{escape(plot.caption)}"><figcaption>{escape(plot.caption)}</figcaption></figure>'
    )


def _table(table: MetricTable) -> str:
    header = ["agents", *table.modes, *table.ratio_names]
    rows = [format_row(table, row) for row in table.rows]
    heading = f"<h3>{escape(table.metric.label)} ({escape(table.metric.unit)})</h3>"
    return heading + _grid(header, [[(cell, "") for cell in row] for row in rows])


def _grid(header: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_td(text, css) for text, css in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(text: str, css: str) -> str:
    return f'<td class="{escape(css)}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>"


def _scale(table: ScaleTable) -> str:
    rows = [[(cell, "") for cell in format_scale_row(row)] for row in table.rows]
    parts = [f"<p>{escape(scale_caption(table))}</p>", _grid(SCALE_HEADER, rows)]
    return _section("scaling", SCALE_HEADING, parts)


def _stalls(table: stalls.StallTable) -> str:
    causes = [[(cell, "") for cell in stalls.format_cause_row(row)] for row in table.causes]
    functions = [
        [(cell, "") for cell in stalls.format_function_row(row)] for row in table.functions
    ]
    parts = [
        f"<p>{escape(stalls.caption(table))}</p>",
        _grid(stalls.CAUSE_HEADER, causes),
        _grid(stalls.FUNCTION_HEADER, functions),
    ]
    return _section("stalls", stalls.HEADING, parts)


def _stall_changes(comparison: stalls.StallComparison) -> list[str]:
    rows = [[(cell, "") for cell in stalls.format_change(c)] for c in comparison.changes]
    return [
        f"<h3>{escape(stalls.CHANGE_HEADING)}</h3>",
        f"<p>{escape(stalls.change_caption(comparison))}</p>",
        _grid(stalls.CHANGE_HEADER, rows),
    ]


def _comparison(comparison: Comparison) -> str:
    parts = [f'<p class="warning">Set-ups differ: {escape(w)}</p>' for w in comparison.warnings]
    parts.append(
        f"<p>Old: {escape(comparison.old_label)}; new: {escape(comparison.new_label)}. Change: "
        "ratio of the medians. Significance: "
        f"<code>{escape(comparison.significance_source)}</code>.</p>"
    )
    if comparison.plot:
        parts.append(_figure(comparison.plot))
    header = ["metric", "mode", "agents", "old", "new", "change", "t", "verdict"]
    parts.append(_grid(header, [change_row(c) for c in comparison.changes]))
    if comparison.stalls:
        parts += _stall_changes(comparison.stalls)
    return _section("comparison", "Comparison", parts)


def change_row(change: Change) -> list[tuple[str, str]]:
    """One comparison row: (text, css class) per cell; the verdict is coloured."""
    unit = change.metric.unit
    percent = "-" if change.ratio is None else f"{(change.ratio - 1) * 100:+.1f} %"
    t_score = change.significance.t_score
    return [
        (change.metric.label, ""),
        (change.mode, ""),
        (f"{change.agents:,}", ""),
        (format_cell(change.old, unit), ""),
        (format_cell(change.new, unit), ""),
        (percent, ""),
        ("-" if t_score is None else f"{t_score:.2f}", ""),
        (change.verdict, change.verdict if change.verdict in ("better", "worse") else ""),
    ]


def _metadata(rows: Sequence[tuple[str, str]]) -> str:
    table = _grid(["key", "value"], [[(k, ""), (v, "")] for k, v in rows])
    return _section(
        "metadata",
        "Metadata",
        [f"<details><summary>{len(rows)} entries</summary>{table}</details>"],
    )
