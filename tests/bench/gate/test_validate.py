"""--validate: false-alarm rates and whether the injected slowdown was caught (pure parts)."""

from rich.console import Console

import bench.gate.validate as validate_module
from bench.gate.checks import FAIL, PASS, WARN, Check
from bench.gate.report import GateReport
from bench.gate.settings import GateSettings
from bench.gate.sides import Side
from bench.gate.validate import (
    Validation,
    as_json,
    as_markdown,
    exit_status,
    run_validation,
    summary,
)


def check(name, mode, verdict, change=0.0, family="timing"):
    return Check(family, name, mode, "us", 1.0, 1.0, change, verdict)


def report(status, *checks, elapsed=10.0):
    return GateReport(
        status=status,
        exit_code={"pass": 0, "regression": 1, "cannot_run": 2}[status],
        comparison="paired",
        base={},
        head={},
        settings={},
        checks=list(checks),
        elapsed_s=elapsed,
    )


CLEAN = report("pass", check("CPU per generation", "shared", PASS), check("x", "raw", WARN))
ALARM = report("regression", check("CPU per generation", "shared", PASS), check("x", "raw", FAIL))
CAUGHT = report(
    "regression",
    check("CPU per generation", "shared", FAIL, 0.14),
    check("CPU per generation", "raw", PASS, 0.001),
    check("CPU per generation, shared / raw", "head", PASS, 0.2, family="relation"),
)


def test_a_clean_validation_passes():
    result = summary(Validation(0.15, [CLEAN, CLEAN], CAUGHT))
    assert result["aa_runs"] == 2 and result["false_alarm_runs"] == 0
    assert result["false_alarm_rate"] == 0.0 and result["false_check_rate"] == 0.0
    assert result["checks_per_run"] == 2 and result["aa_warnings"] == 2
    assert result["injected_caught"] is True
    assert result["injected_failed_checks"] == ["CPU per generation (shared)"]
    assert result["injected_cpu_change"] == {"shared": 0.14, "raw": 0.001}
    assert result["elapsed_s"] == 30.0
    assert exit_status(result) == 0


def test_a_false_alarm_fails_the_validation():
    result = summary(Validation(0.15, [CLEAN, ALARM], CAUGHT))
    assert result["false_alarm_runs"] == 1 and result["false_alarm_rate"] == 0.5
    assert result["false_alarm_checks"] == ["x (raw)"]
    assert result["false_check_rate"] == 0.25
    assert exit_status(result) == 1
    assert "- False alarms in: x (raw)." in as_markdown(Validation(0.15, [CLEAN, ALARM], CAUGHT))


def test_a_missed_slowdown_fails_the_validation():
    missed = report("pass", check("CPU per generation", "shared", PASS, 0.03))
    result = summary(Validation(0.15, [CLEAN], missed))
    assert result["injected_caught"] is False
    assert exit_status(result) == 1
    assert "NOT caught" in as_markdown(Validation(0.15, [CLEAN], missed))


def test_a_validation_stopped_early_has_no_rates():
    stopped = Validation(0.15, [report("cannot_run")], None)
    result = summary(stopped)
    assert result["aa_runs"] == 0 and result["false_alarm_rate"] is None
    assert result["injected_caught"] is False
    assert exit_status(result) == 1
    assert as_json(stopped)["injected"] is None
    assert "false alarms 0 (-)" in as_markdown(stopped)


def test_the_markdown_gives_the_rates_and_the_measured_change():
    markdown = as_markdown(Validation(0.15, [CLEAN, CLEAN], CAUGHT))
    assert "A/A gates (the working tree against itself): 2, false alarms 0 (0%)" in markdown
    assert "failed checks 0 of 4 (0.0%); warnings 2." in markdown
    assert (
        "Injected slowdown of 15% CPU per generation in the engine: caught, failing "
        "CPU per generation (shared); measured CPU per generation change: shared +14.0%, "
        "raw +0.1%." in markdown
    )


def test_the_injected_gate_slows_the_tree_in_place(monkeypatch, tmp_path):
    """No copy of the engine: the head side of the last gate is the tree with a slowdown."""
    sides = []

    def compare(base, head, settings, runs_dir, console):
        sides.append((base, head))
        return CLEAN

    monkeypatch.setattr(validate_module, "compare_sides", compare)
    tree = Side("working tree", "abc", tmp_path)
    validation = run_validation(tree, GateSettings(), 2, 0.15, tmp_path, Console(quiet=True))
    assert validation.injected is CLEAN and len(validation.same) == 2
    assert sides[:2] == [(tree, tree)] * 2
    base, head = sides[2]
    assert base == tree
    assert (head.source, head.commit, head.slowdown) == (tmp_path, "abc", 0.15)
    assert head.label == "working tree + 15% injected slowdown"
