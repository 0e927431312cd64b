"""compare_sides / compare_with_baseline with measure() replaced: verdicts and failures."""

from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

import bench.gate.compare as compare_module
from bench.gate.checks import (
    EXIT_CANNOT_RUN,
    EXIT_PASS,
    EXIT_REGRESSION,
    FAIL,
    instruction_check,
)
from bench.gate.measure import BASE, HEAD, Measurements, SideFailed
from bench.gate.settings import TIMING_METRICS, GateSettings
from bench.gate.sides import Side

REPO = Path(__file__).resolve().parents[3]
CPU = TIMING_METRICS[0]
SETTINGS = GateSettings(modes=("shared",), agents=16, duration=0.5, instructions=False)
NOISE = [1.0, 1.01, 0.99, 1.005, 0.995]


def found(head_factor=1.0):
    result = Measurements()
    counts = {
        "work.generations": 100,
        "work.messages": 10,
        "work.inbox_misses": 0,
        "work.agent_errors": 0,
        "objects.objects_per_agent": 5.0,
        "memory.python_per_agent_bytes": 900.0,
    }
    for side, factor in ((BASE, 1.0), (HEAD, head_factor)):
        result.deterministic[side]["shared"] = dict(counts)
        result.timing[side]["shared"] = {
            path: [100.0 * n * (factor if path == CPU else 1.0) for n in NOISE]
            for path in TIMING_METRICS
        }
    result.runs = 12
    return result


@pytest.fixture
def measured(monkeypatch):
    """Make measure() return or raise `outcome` instead of starting workers."""

    def install(outcome):
        def fake(runs, folders, runs_dir, settings, on_done):
            assert set(folders) <= {BASE, HEAD}
            for folder in folders.values():  # each side's folder links bench/ and cascade/
                assert (folder / "bench" / "__init__.py").is_file()
                assert (folder / "cascade" / "__init__.py").is_file()
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        monkeypatch.setattr(compare_module, "measure", fake)

    return install


def sides():
    return Side("base", "b" * 40, REPO), Side("head", "h" * 40, REPO)


def test_an_unchanged_head_passes(measured, tmp_path):
    measured(found())
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("pass", EXIT_PASS)
    assert report.runs == 12
    assert {check.family for check in report.checks} == {"deterministic", "timing"}


def test_a_slower_head_is_a_regression_naming_the_metric(measured, tmp_path):
    measured(found(head_factor=1.2))
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("regression", EXIT_REGRESSION)
    assert [(c.name, c.mode) for c in report.checks if c.verdict == FAIL] == [
        ("CPU per generation", "shared")
    ]


def test_a_failing_base_cannot_run(measured, tmp_path):
    measured(SideFailed(BASE, "shared-16: worker exited with 1"))
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("cannot_run", EXIT_CANNOT_RUN)
    assert "the base could not run the head's harness" in report.reason
    assert "worker exited with 1" in report.reason


def test_a_failing_head_is_a_regression(measured, tmp_path):
    measured(SideFailed(HEAD, "shared-16: worker exited with 1"))
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("regression", EXIT_REGRESSION)
    assert report.reason.startswith("the head failed to run the workload")


def test_an_interrupted_gate_keeps_its_checks_and_gives_no_verdict(measured, tmp_path):
    partial = found(head_factor=1.2)
    partial.interrupted = True
    measured(partial)
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("interrupted", 130)
    assert report.checks


def test_a_baseline_comparison_is_unpaired_and_says_it_is_less_reliable(measured, tmp_path):
    measurements = found(head_factor=1.2)
    stored = measurements.timing[BASE]
    measured(measurements)
    _, head = sides()
    report = compare_module.compare_with_baseline(
        stored, "results/latest.json", head, SETTINGS, tmp_path, _quiet()
    )
    assert report.comparison == "baseline"
    assert "less reliable" in report.notes[0]
    assert {check.family for check in report.checks} == {"timing"}
    assert report.exit_code == EXIT_REGRESSION


def test_the_instruction_family_runs_first_in_the_sides_folders_and_its_checks_count(
    measured, monkeypatch, tmp_path
):
    order = []
    measured(found())
    original = compare_module.measure

    def measure(*args, **kwargs):
        order.append("timing")
        return original(*args, **kwargs)

    def family(settings, folders, console, head_slowdown):
        order.append("instructions")
        assert set(folders) == {BASE, HEAD}
        grown = instruction_check("shared", 100.0, 103.0, settings.instruction_threshold)
        return [replace(grown, movers=("cost_spin (bench/cost/spin.py:15): +9",))], ["a note"]

    monkeypatch.setattr(compare_module, "measure", measure)
    monkeypatch.setattr(compare_module, "instruction_family", family)
    settings = replace(SETTINGS, instructions=True)
    report = compare_module.compare_sides(*sides(), settings, tmp_path, _quiet())

    assert order == ["instructions", "timing"]
    assert (report.status, report.exit_code) == ("regression", EXIT_REGRESSION)
    assert [(c.family, c.mode) for c in report.failed()] == [("instructions", "shared")]
    assert "a note" in report.notes


def test_ctrl_c_in_the_instruction_family_keeps_the_report_without_a_verdict(
    measured, monkeypatch, tmp_path
):
    measured(found())

    def family(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_module, "instruction_family", family)
    report = compare_module.compare_sides(*sides(), SETTINGS, tmp_path, _quiet())
    assert (report.status, report.exit_code) == ("interrupted", 130)


def _quiet():
    return Console(quiet=True)
