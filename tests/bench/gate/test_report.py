"""gate.json, gate.md and the headline, from a GateReport."""

import json

from bench.gate.checks import FAIL, IMPROVED, PASS, SKIP, WARN, Check
from bench.gate.report import (
    GATE_SCHEMA,
    GateReport,
    as_json,
    as_markdown,
    as_table,
    attention,
    headline,
)
from bench.gate.settings import GateSettings

CHECKS = [
    Check("deterministic", "generations", "shared", "count", 5000, 5000, 0.0, PASS, "identical"),
    Check(
        "timing",
        "CPU per generation",
        "shared",
        "us",
        150.0,
        172.5,
        0.15,
        FAIL,
        "worse by more than 10%, significant (95% interval)",
        0.13,
        0.17,
    ),
    Check("timing", "event-loop lag p99", "raw", "ms", 3.0, 3.6, 0.2, WARN, "not significant"),
    Check("timing", "frame flush p99", "raw", "ms", 2.0, 1.5, -0.25, IMPROVED, "better"),
    Check("timing", "RSS per agent", "raw", "bytes", None, None, None, SKIP, "no pairs"),
]


def make_report(**changes):
    values = {
        "status": "regression",
        "exit_code": 1,
        "comparison": "paired",
        "base": {"label": "merge-base with main", "commit": "0123456789abcdef"},
        "head": {"label": "working tree", "commit": "fedcba9876543210"},
        "settings": GateSettings(pairs=5).as_dict(),
        "checks": list(CHECKS),
        "notes": ["a general note"],
        "runs": 36,
        "elapsed_s": 123.456,
    }
    return GateReport(**{**values, **changes})


def test_gate_json_has_the_verdict_and_every_check():
    data = as_json(make_report())
    assert data["gate_schema"] == GATE_SCHEMA == 2
    assert (data["status"], data["exit_code"], data["comparison"]) == ("regression", 1, "paired")
    assert data["failed"] == ["CPU per generation (shared)"]
    assert data["runs"] == 36 and data["elapsed_s"] == 123.5
    assert data["reason"] is None and data["notes"] == ["a general note"]
    assert data["settings"]["modes"] == ["per_agent", "shared", "raw"]
    assert [c["verdict"] for c in data["checks"]] == [PASS, FAIL, WARN, IMPROVED, SKIP]
    assert data["checks"][1]["low"] == 0.13
    assert json.loads(json.dumps(data)) == data  # plain data


def test_a_passing_report_lists_no_failures():
    report = make_report(status="pass", exit_code=0, checks=[CHECKS[0]])
    assert report.failed() == []
    assert as_json(report)["failed"] == []
    assert headline(report) == "PASS: no regression"


def test_the_headline_names_what_failed():
    assert headline(make_report()) == "FAIL: regression in CPU per generation (shared)"


def test_the_headline_of_a_gate_that_could_not_run_gives_the_reason():
    report = make_report(
        status="cannot_run", exit_code=2, checks=[], reason="git ref 'nope' does not resolve"
    )
    assert headline(report) == "COULD NOT RUN: git ref 'nope' does not resolve"
    assert as_json(report)["reason"] == "git ref 'nope' does not resolve"
    assert "**COULD NOT RUN: git ref 'nope' does not resolve**" in as_markdown(report)


def test_attention_lists_notes_then_every_check_that_did_not_simply_pass():
    assert attention(make_report()) == [
        "a general note",
        "fail: CPU per generation (shared): worse by more than 10%, significant (95% interval)",
        "warn: event-loop lag p99 (raw): not significant",
        "improved: frame flush p99 (raw): better",
    ]


def test_gate_md_has_the_headline_sides_attention_and_a_row_per_check():
    markdown = as_markdown(make_report())
    lines = markdown.splitlines()
    assert lines[0] == "# Performance gate"
    assert "**FAIL: regression in CPU per generation (shared)**" in lines
    assert "Base: merge-base with main (`0123456789`). Head: working tree (`fedcba9876`)." in lines
    assert "5 base/head pairs per mode" in markdown and "36 runs, 123 s." in markdown
    for line in attention(make_report()):
        assert f"- {line}" in lines
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(CHECKS)  # the header and one row per check
    assert rows[0] == "| check | mode | base | head | change | verdict | note |"
    (cpu,) = [row for row in rows if row.startswith("| CPU per generation |")]
    assert "| +15.0% [+13.0%, +17.0%] | fail |" in cpu
    (rss,) = [row for row in rows if row.startswith("| RSS per agent |")]
    assert "| - | - | - | skip | no pairs |" in rss
    assert all(row.count("|") == 8 for row in rows)


def test_gate_md_without_checks_has_no_table():
    report = make_report(status="cannot_run", exit_code=2, checks=[], reason="why")
    assert "| check |" not in as_markdown(report)


def test_a_baseline_comparison_says_so():
    report = make_report(comparison="baseline", base={"label": "results/latest.json"})
    markdown = as_markdown(report)
    assert "Base: results/latest.json." in markdown
    assert "compared with a stored suite" in markdown


def test_the_terminal_table_has_a_row_per_check():
    table = as_table(make_report())
    assert table.row_count == len(CHECKS)
    assert [column.header for column in table.columns] == [
        "check",
        "mode",
        "base",
        "head",
        "change",
        "verdict",
    ]
    assert table.title == headline(make_report())


def test_an_instruction_failure_names_what_grew_in_gate_md_and_the_attention_lines():
    grown = Check(
        "instructions",
        "instructions per generation",
        "shared",
        "count",
        683_000.0,
        697_000.0,
        0.0205,
        FAIL,
        "more than 1% more instructions per generation",
        movers=(
            "cost_spin (bench/cost/spin.py:15): +76 bytecodes/generation",
            "_PyEval_EvalFrameDefault [C]: +4,435 instructions/generation",
        ),
    )
    report = make_report(checks=[grown])

    markdown = as_markdown(report)
    assert "## What grew: instructions per generation (shared)" in markdown
    assert "- `cost_spin (bench/cost/spin.py:15): +76 bytecodes/generation`" in markdown
    assert attention(report)[-1].endswith("; grew most: " + grown.movers[0])
    assert as_json(report)["checks"][0]["movers"] == list(grown.movers)
