"""Does the gate work here? A/A runs (false alarms) and one run with a known slowdown (catch).

`python -m bench gate --validate` compares the working tree with itself several times,
where every failure is a false alarm, then with itself once more, its engines on the head
side spinning for a known fraction of their CPU per generation (see bench.slowdown),
which the gate must catch and name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.gate import report as gate_report
from bench.gate.compare import compare_sides
from bench.gate.report import GateReport
from bench.gate.settings import GateSettings
from bench.gate.sides import Side

_CPU = "CPU per generation"


@dataclass(slots=True)
class Validation:
    """The A/A reports and the injected-slowdown report."""

    fraction: float
    same: list[GateReport]
    injected: GateReport | None


def run_validation(
    tree: Side,
    settings: GateSettings,
    same_runs: int,
    fraction: float,
    runs_dir: Path,
    console: Console,
) -> Validation:
    """`same_runs` A/A gates of `tree` against itself, then one against itself slowed."""
    validation = Validation(fraction, [], None)
    for index in range(same_runs):
        console.print(f"A/A gate {index + 1} of {same_runs}: the working tree against itself")
        report = compare_sides(tree, tree, settings, runs_dir / f"aa-{index + 1}", console)
        validation.same.append(report)
        if report.status in ("cannot_run", "interrupted"):
            return validation
    console.print(
        f"Injected gate: the working tree against itself {fraction:.0%} slower per generation"
    )
    label = f"{tree.label} + {fraction:.0%} injected slowdown"
    slowed = dataclasses.replace(tree, label=label, slowdown=fraction)
    validation.injected = compare_sides(tree, slowed, settings, runs_dir / "injected", console)
    return validation


def summary(validation: Validation) -> dict[str, Any]:
    """The rates and whether the slowdown was caught, as plain data (pure)."""
    same = [r for r in validation.same if r.status in ("pass", "regression")]
    alarms = [r for r in same if r.status == "regression"]
    checks = sum(len(r.checks) for r in same)
    false_checks = [f"{c.name} ({c.mode})" for r in same for c in r.failed()]
    warnings = sum(1 for r in same for c in r.checks if c.verdict == "warn")
    injected = validation.injected
    caught = injected is not None and injected.status == "regression"
    named = [f"{c.name} ({c.mode})" for c in injected.failed()] if injected else []
    cpu_changes = {
        c.mode: c.change
        for c in (injected.checks if injected else [])
        if c.name == _CPU and c.family == "timing"
    }
    return {
        "aa_runs": len(same),
        "false_alarm_runs": len(alarms),
        "false_alarm_rate": len(alarms) / len(same) if same else None,
        "checks_per_run": checks // len(same) if same else 0,
        "false_alarm_checks": false_checks,
        "false_check_rate": len(false_checks) / checks if checks else None,
        "aa_warnings": warnings,
        "injected_fraction": validation.fraction,
        "injected_caught": caught,
        "injected_failed_checks": named,
        "injected_cpu_change": cpu_changes,
        "elapsed_s": round(
            sum(r.elapsed_s for r in [*validation.same, *([injected] if injected else [])]), 1
        ),
    }


def exit_status(result: dict[str, Any]) -> int:
    """0 when there was no false alarm and the slowdown was caught, else 1."""
    return 0 if result["false_alarm_runs"] == 0 and result["injected_caught"] else 1


def as_json(validation: Validation) -> dict[str, Any]:
    """gate-validate.json: the summary and every gate report."""
    return {
        "summary": summary(validation),
        "aa": [gate_report.as_json(r) for r in validation.same],
        "injected": None
        if validation.injected is None
        else gate_report.as_json(validation.injected),
    }


def as_markdown(validation: Validation) -> str:
    """gate-validate.md: the rates in a few lines."""
    s = summary(validation)
    rate = "-" if s["false_alarm_rate"] is None else f"{s['false_alarm_rate']:.0%}"
    check_rate = "-" if s["false_check_rate"] is None else f"{s['false_check_rate']:.1%}"
    cpu = ", ".join(
        f"{mode} {change:+.1%}"
        for mode, change in s["injected_cpu_change"].items()
        if change is not None
    )
    lines = [
        "## Timing",
        "",
        f"- A/A gates (the working tree against itself): {s['aa_runs']}, false alarms "
        f"{s['false_alarm_runs']} ({rate}); failed checks {len(s['false_alarm_checks'])} of "
        f"{s['aa_runs'] * s['checks_per_run']} ({check_rate}); warnings {s['aa_warnings']}.",
        f"- Injected slowdown of {s['injected_fraction']:.0%} CPU per generation in the engine: "
        f"{'caught' if s['injected_caught'] else 'NOT caught'}"
        + (
            f", failing {', '.join(s['injected_failed_checks'])}"
            if s["injected_failed_checks"]
            else ""
        )
        + (f"; measured CPU per generation change: {cpu}" if cpu else "")
        + ".",
        f"- Total time {s['elapsed_s']:.0f} s.",
    ]
    if s["false_alarm_checks"]:
        lines.append(f"- False alarms in: {', '.join(s['false_alarm_checks'])}.")
    return "\n".join(lines) + "\n"
