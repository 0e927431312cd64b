"""The gate's instruction family with callgrind replaced: skipping, injection, confirming."""

from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

import bench.gate.instructions as family_module
from bench.cost.callgrind import FunctionCost
from bench.cost.measure import Cost
from bench.cost.segments import Figures
from bench.errors import BenchError
from bench.gate.checks import FAIL, PASS
from bench.gate.instruction_validation import (
    InstructionValidation,
    as_markdown,
    passed,
    summary,
)
from bench.gate.settings import GateSettings

SETTINGS = GateSettings(modes=("shared", "raw"))
FOLDERS = {"base": Path("/base"), "head": Path("/head")}


def fake_costs(monkeypatch, per_generation):
    """Replace callgrind: `per_generation(side, child)` gives the figure of each run."""
    seen = []

    def measure_cost(child, valgrind=None, cwd=None):
        side = "base" if cwd == FOLDERS["base"] else "head"
        seen.append((side, child))
        value = per_generation(side, child)
        functions = [FunctionCost("eval", value, value)]
        return Cost(child, Figures(value, value, 1.0), functions, [], ["fake"])

    monkeypatch.setattr(family_module, "measure_cost", measure_cost)
    monkeypatch.setattr(family_module, "find_valgrind", lambda: "valgrind")
    monkeypatch.setattr(
        family_module,
        "python_profile",
        lambda child, cwd: {"cost_spin (spin.py:1)": 1.0 * child.slowdown_iterations},
    )
    return seen


def run(settings=SETTINGS, slowdown=None):
    return family_module.instruction_family(settings, FOLDERS, Console(quiet=True), slowdown)


def test_without_valgrind_the_family_is_skipped_with_a_note(monkeypatch):
    def missing():
        raise BenchError("valgrind is not installed")

    monkeypatch.setattr(family_module, "find_valgrind", missing)
    checks, notes = run()
    assert checks == []
    assert "sudo apt-get install valgrind" in notes[0] and "timing checks still ran" in notes[0]


def test_turned_off_it_measures_nothing(monkeypatch):
    seen = fake_costs(monkeypatch, lambda side, child: 1000.0)
    assert run(replace(SETTINGS, instructions=False)) == ([], [])
    assert seen == []


def test_identical_sides_pass_after_one_run_per_side_and_mode(monkeypatch):
    seen = fake_costs(monkeypatch, lambda side, child: 1000.0)
    checks, _ = run()
    assert [(c.mode, c.verdict, c.note) for c in checks] == [
        ("shared", PASS, "identical"),
        ("raw", PASS, "identical"),
    ]
    assert sorted((side, child.mode, child.layout) for side, child in seen) == [
        ("base", "raw", 0),
        ("base", "shared", 0),
        ("head", "raw", 0),
        ("head", "shared", 0),
    ]


def test_a_layout_accident_is_outvoted_by_the_median_of_three_layouts(monkeypatch):
    def value(side, child):
        accident = side == "head" and child.mode == "raw" and child.layout == 0
        return 1022.0 if accident else 1000.0

    seen = fake_costs(monkeypatch, value)
    checks, _ = run()
    raw = next(c for c in checks if c.mode == "raw")
    assert (raw.verdict, raw.head) == (PASS, 1000.0)
    assert "median of 3 memory layouts" in raw.note
    assert sorted(c.layout for side, c in seen if c.mode == "raw") == [0, 0, 1, 1, 2, 2]


def test_a_real_growth_fails_and_names_the_functions(monkeypatch):
    fake_costs(monkeypatch, lambda side, child: 1030.0 if side == "head" else 1000.0)
    checks, _ = run(replace(SETTINGS, modes=("shared",)))
    (check,) = checks
    assert check.verdict == FAIL and "median of 3" in check.note
    assert check.movers == ("eval [C]: +30 instructions/generation",)  # no Python growth


def test_an_injected_slowdown_is_calibrated_on_the_head_and_named(monkeypatch):
    def value(side, child):  # hook 8,000 + 700 per iteration, only where an engine runs
        if child.mode == "raw" or not child.slowdown_iterations:
            return 700_000.0
        return 700_000.0 + 8_000 + 700 * child.slowdown_iterations

    seen = fake_costs(monkeypatch, value)
    checks, _ = run(slowdown=0.02)
    shared, raw = checks
    assert shared.verdict == FAIL and "injected 9 iterations" in shared.note
    assert shared.movers[0] == "cost_spin (spin.py:1): +9 bytecodes/generation"
    assert raw.verdict == PASS and "injected" not in raw.note
    assert ("head", "shared", 0) not in [(s, c.mode, c.slowdown_iterations) for s, c in seen]


def test_the_validation_summary_counts_false_alarms_over_every_pair_of_repeats():
    from bench.gate.checks import instruction_check

    grown = instruction_check("shared", 1000.0, 1020.0, 0.01)
    found = InstructionValidation(
        0.01,
        repeats={"shared": [1000.0] * 10, "raw": [900.0] * 10},
        layouts={"shared": [1000.0, 1001.0, 1022.0], "raw": [900.0, 900.0, 900.0]},
        injected={
            0.02: [replace(grown, note="x; injected 9 iterations", movers=("cost_spin (a)",))]
        },
    )
    result = summary(found)
    assert (result["aa_pairs"], result["aa_false_alarms"]) == (180, 0)
    assert result["modes"]["shared"]["layouts_over_threshold"] == 1
    assert result["modes"]["shared"]["layout_max_move"] == pytest.approx(0.022)
    assert passed(result)
    assert "| 2% | shared | +2.00% | fail | `cost_spin (a)` |" in as_markdown(result)

    missed = replace(found, injected={0.02: [replace(grown, verdict=PASS, note="injected 1")]})
    assert not passed(summary(missed))
    noisy = replace(found, repeats={"shared": [1000.0, 1020.0]})
    assert summary(noisy)["aa_false_alarms"] == 1
