"""The gate's verdict as data (gate.json), Markdown (gate.md) and a terminal table.

gate.json is versioned by GATE_SCHEMA; its fields are documented in docs/gate.md,
"Output". Pure functions: the command writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from bench.gate.checks import FAIL, IMPROVED, PASS, SKIP, WARN, Check
from bench.summary import format_value

GATE_SCHEMA = 2
"""History: 1 = first version (2026-11); 2 = the instruction family, checks' `movers`."""

_STATUS_TEXT = {
    "pass": "PASS: no regression",
    "regression": "FAIL: regression",
    "cannot_run": "COULD NOT RUN",
    "interrupted": "INTERRUPTED: partial results, no verdict",
}
_VERDICT_STYLE = {FAIL: "bold red", WARN: "yellow", IMPROVED: "green"}


@dataclass(slots=True)
class GateReport:
    """Everything a gate run decided, and on what."""

    status: str
    exit_code: int
    comparison: str  # "paired" (base built and run here) or "baseline" (a stored suite)
    base: dict[str, Any]
    head: dict[str, Any]
    settings: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    runs: int = 0
    elapsed_s: float = 0.0
    machine: dict[str, Any] = field(default_factory=dict)

    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if check.verdict == FAIL]


def as_json(report: GateReport) -> dict[str, Any]:
    """gate.json: the verdict, both sides, the settings and every check."""
    return {
        "gate_schema": GATE_SCHEMA,
        "status": report.status,
        "exit_code": report.exit_code,
        "comparison": report.comparison,
        "base": report.base,
        "head": report.head,
        "reason": report.reason,
        "notes": report.notes,
        "failed": [f"{check.name} ({check.mode})" for check in report.failed()],
        "runs": report.runs,
        "elapsed_s": round(report.elapsed_s, 1),
        "machine": report.machine,
        "settings": report.settings,
        "checks": [check.as_dict() for check in report.checks],
    }


def headline(report: GateReport) -> str:
    """One line: the status, and what failed or why it could not run."""
    text = _STATUS_TEXT[report.status]
    if report.failed():
        text += " in " + ", ".join(f"{c.name} ({c.mode})" for c in report.failed())
    if report.reason:
        text += f": {report.reason}"
    return text


def as_markdown(report: GateReport) -> str:
    """gate.md: the headline, what was compared, and a table of every check."""
    lines = [
        "# Performance gate",
        "",
        f"**{headline(report)}**",
        "",
        f"Base: {_side_text(report.base)}. Head: {_side_text(report.head)}.",
        _how_text(report),
    ]
    lines += [f"- {line}" for line in attention(report)]
    if report.checks:
        lines += ["", "| check | mode | base | head | change | verdict | note |", "|---" * 7 + "|"]
        lines += ["| " + " | ".join(_cells(check)) + " |" for check in report.checks]
    for check in report.checks:
        if check.movers:
            lines += ["", f"## What grew: {check.name} ({check.mode})", ""]
            lines += [f"- `{mover}`" for mover in check.movers]
    return "\n".join(lines) + "\n"


def attention(report: GateReport) -> list[str]:
    """The general notes, then one line per check that did not simply pass."""
    flagged = [c for c in report.checks if c.verdict not in (PASS, SKIP)]
    return report.notes + [
        f"{c.verdict}: {c.name} ({c.mode}): {c.note}"
        + (f"; grew most: {c.movers[0]}" if c.movers else "")
        for c in flagged
    ]


def as_table(report: GateReport) -> Table:
    """The checks as a rich table for the terminal (notes of non-passing checks below it)."""
    table = Table(title=headline(report), title_justify="left")
    for column in ("check", "mode", "base", "head", "change", "verdict"):
        table.add_column(column, justify="right" if column in ("base", "head") else "left")
    for check in report.checks:
        table.add_row(*_cells(check)[:-1], style=_VERDICT_STYLE.get(check.verdict))
    return table


def _cells(check: Check) -> list[str]:
    return [
        check.name,
        check.mode,
        format_value(check.base, check.unit),
        format_value(check.head, check.unit),
        _change_text(check),
        check.verdict,
        check.note,
    ]


def _change_text(check: Check) -> str:
    if check.change is None:
        return "-"
    text = f"{check.change:+.3%}" if check.family == "instructions" else f"{check.change:+.1%}"
    if check.low is not None and check.high is not None:
        text += f" [{check.low:+.1%}, {check.high:+.1%}]"
    return text


def _side_text(side: dict[str, Any]) -> str:
    commit = side.get("commit")
    label = side.get("label", "?")
    return f"{label} (`{commit[:10]}`)" if commit else label


def _how_text(report: GateReport) -> str:
    settings = report.settings
    if report.comparison == "baseline":
        how = "Head runs compared with a stored suite (less reliable: other time or machine)"
    else:
        how = (
            f"{settings.get('pairs')} base/head pairs per mode, interleaved, each run a fresh "
            "process"
        )
    return (
        f"{how}; {settings.get('agents')} agents, {settings.get('duration')} s per timing run; "
        f"fail = worse by more than the threshold ({settings.get('threshold', 0):.0%} by "
        f"default) with the {settings.get('confidence', 0):.0%} interval of head/base "
        f"above 1. Instructions per generation: one callgrind run per side and mode, fail "
        f"above {settings.get('instruction_threshold', 0):.0%}. "
        f"Change column: head/base - 1 [interval]. {report.runs} runs, "
        f"{report.elapsed_s:.0f} s."
    )
