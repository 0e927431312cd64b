"""The report's stall parts: the table, the timelines and the comparison (pure), the figure,
and both pages with and without stalls."""

import io
import re
from html import escape
from pathlib import Path

import pytest
from matplotlib.image import imread

from bench.probes.stalls import CAUSES
from bench.report.build import setup_facts
from bench.report.data import SuiteData
from bench.report.plots import CAUSE_COLOURS, cause_colour, stall_timeline_figure
from bench.report.stalls import (
    ALL_CAUSES,
    StallChange,
    compare_stalls,
    format_cause_row,
    format_change,
    format_function_row,
    function_rows,
    percent_change,
    stall_table,
    stall_timelines,
)
from bench.workload import MODES

COLUMNS = ("per_agent", "shared", "raw")


def suite_runs(make, scale=1.0, sizes=(16, 36)):
    """per_agent and shared with stalls, 3 repeats per size; raw from before the probe."""
    runs = [
        make(mode, agents, repeat, scale, stalls=True)
        for agents in sizes
        for mode in ("per_agent", "shared")
        for repeat in range(3)
    ]
    return runs + [make("raw", agents, 0, scale) for agents in sizes]


def test_the_table_sums_each_cause_and_function_over_the_runs(run_document):
    table = stall_table(suite_runs(run_document), COLUMNS)
    assert (table.agents, table.thresholds_ms) == (36, (20.0,))  # the largest size
    assert [row.column for row in table.causes] == ["per_agent", "shared"]  # raw has none
    shared = table.causes[1]
    # each run: start-up 100 x (1 + repeat) ms, gc-gen2 40 x (1 + repeat), code 30
    assert (shared.runs, shared.count, shared.total_ms) == (3, 9, 930.0)
    assert shared.by_cause_ms == {
        "gc-gen0": 0.0, "gc-gen1": 0.0, "gc-gen2": 240.0, "start-up": 600.0, "code": 90.0,
        "unknown": 0.0,
    }  # fmt: skip
    assert shared.per_run_ms.median == 310.0  # the median run's 200 + 80 + 30
    assert format_cause_row(shared) == [
        "shared", "3", "9", "930.00 ms", "310.00 ± 140.00 ms",
        "0", "0", "240.00 ms (26%)", "600.00 ms (65%)", "90.00 ms (10%)", "0",
    ]  # fmt: skip
    rows = [format_function_row(r) for r in table.functions if r.column == "shared"]
    assert rows == [
        ["shared", "start-up", "decide bench/workload/workflow.py:49", "600.00 ms", "65%"],
        ["shared", "gc-gen2", "-", "240.00 ms", "26%"],  # no sample named a function
        ["shared", "code", "<module> cascade/x.py:3", "90.00 ms", "10%"],
    ]


def test_the_top_functions_are_the_longest_stalled(run_document):
    runs = [run_document("shared", 16, r, stalls=True) for r in range(2)]
    (top,) = function_rows("shared", runs, top=1)
    assert (top.cause, top.ms) == ("start-up", 300.0)


def test_runs_without_stalls_give_no_table_or_timeline(run_document):
    runs = [run_document("shared", 16, 0), run_document("raw", 16, 0)]
    assert stall_table(runs, COLUMNS) is None
    assert stall_timelines(runs, COLUMNS, 16) == []
    assert compare_stalls(runs, suite_runs(run_document), COLUMNS) is None


def test_each_mode_shows_its_median_run_with_stalls(run_document):
    runs = suite_runs(run_document)
    louder = run_document("shared", 36, 9)  # the largest lag p99, but from before the probe
    found = stall_timelines([*runs, louder], COLUMNS, 36)
    assert [line.mode for line in found] == ["per_agent", "shared"]
    shared = found[1]
    assert shared.started_at == runs[10]["meta"]["started_at"]  # repeat 1 of 0, 1, 2
    assert [(s.start_s, s.duration_ms, s.cause) for s in shared.stalls] == [
        (0.005, 200.0, "start-up"),
        (1.2, 80.0, "gc-gen2"),
        (2.1, 30.0, "code"),
    ]
    assert shared.lag_edges_s == (0.0, 1.0, 2.0, 3.0) and shared.end_s == 3.0


def test_the_comparison_gives_stalled_ms_per_run_by_cause(run_document):
    old = suite_runs(run_document)
    new = [run for run in suite_runs(run_document, scale=2.0) if run["config"]["agents"] == 16]
    found = compare_stalls(old, new, COLUMNS)
    assert found.agents == 16 and found.warnings == ()  # the largest size both have
    shared = [c for c in found.changes if c.column == "shared"]
    assert shared == [
        StallChange("shared", ALL_CAUSES, 310.0, 620.0),
        StallChange("shared", "gc-gen2", 80.0, 160.0),  # causes that never stalled: left out
        StallChange("shared", "start-up", 200.0, 400.0),
        StallChange("shared", "code", 30.0, 60.0),
    ]
    total = ["shared", "all causes", "310.00 ms", "620.00 ms", "+100.0 %"]
    assert format_change(shared[0]) == total
    for run in new[:-1]:  # the last is raw's, without stalls
        run["metrics"]["stalls"]["threshold_ms"] = 10.0
    assert compare_stalls(old, new, COLUMNS).warnings == (
        "stall threshold differs: 20 ms (old) vs 10 ms (new)",
    )


@pytest.mark.parametrize(
    ("old", "new", "text"),
    [(10.0, 15.0, "+50.0 %"), (10.0, 0.0, "-100.0 %"), (0.0, 5.0, "from 0"), (0.0, 0.0, "-")],
)
def test_percent_change(old, new, text):
    assert percent_change(old, new) == text


def test_every_cause_has_one_colour_of_its_own():
    assert tuple(CAUSE_COLOURS) == CAUSES
    colours = [*CAUSE_COLOURS.values(), *(mode.colour for mode in MODES.values())]
    assert len(set(colours)) == len(colours)  # and none is a mode's
    assert cause_colour("gc-gen9") not in colours  # a cause added later is still drawn


def test_the_figure_draws_runs_with_and_without_stalls(run_document):
    runs = [run_document("shared", 16, 0, stalls=True), run_document("raw", 16, 0, stalls=True)]
    runs[0]["series"]["stalls"][1]["cause"] = "gc-gen9"  # not known to this report
    runs[1]["series"]["stalls"] = []
    image = imread(io.BytesIO(stall_timeline_figure(stall_timelines(runs, COLUMNS, 16), 16)))
    assert image.shape[1] == 1000 and image.shape[0] > 500 and image.std() > 0.01


def test_a_suite_from_before_gc_was_recorded_ran_the_default():
    suite = SuiteData(Path("old.json"), None, {}, {"loop": "asyncio"})
    assert setup_facts(suite) == {"gc": "default", "loop": "asyncio"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory, suite_writer):
    """Two suites with stalls, the new one with the collector frozen, and their report."""
    old = suite_writer(tmp_path_factory.mktemp("old"), stalls=True, gc="default")
    new = suite_writer(tmp_path_factory.mktemp("new"), scale=1.5, stalls=True, gc="freeze")
    out = tmp_path_factory.mktemp("out")
    from bench.commands.report import ReportOptions, report_command

    assert report_command(ReportOptions([old, new], out, quiet=True)) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    return html, (out / "report.md").read_text(encoding="utf-8"), out


def test_the_pages_show_the_stall_timeline_after_the_lag_timeline(pair):
    html, markdown, out = pair
    plots = re.findall(r'<figure id="plot-([a-z_]+)"', html)
    assert plots == ["scaling", "lag_cdf", "memory", "timeline", "stalls", "comparison"]
    assert "](report_files/stalls.png)" in markdown
    assert (out / "report_files" / "stalls.png").read_bytes()[:4] == b"\x89PNG"


def test_the_pages_hold_the_stall_table_with_function_names_escaped(pair):
    html, markdown, _ = pair
    assert '<section id="stalls">' in html and "<module>" not in html
    assert escape("<module> cascade/x.py:3") in html
    assert "## Stalls: stalled time by cause and by function" in markdown
    assert "| mode | runs | stalls | stalled | per run | gc-gen0 |" in markdown
    assert "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" in markdown  # numbers right
    assert "| shared | code | &lt;module&gt; cascade/x.py:3 | 90.00 ms | 12% |" in markdown


def test_the_comparison_shows_the_change_by_cause_and_warns_of_another_gc(pair):
    html, markdown, _ = pair
    assert "<dt>garbage collector</dt><dd>freeze</dd>" in html
    assert "Set-ups differ: gc differs: default (old) vs freeze (new)" in html
    assert "### Stalled time by cause" in markdown
    # shared at 36 agents, two runs: 170 and 310 ms, 30 of them code; x1.5 in the new suite
    assert "| shared | all causes | 240.00 ms | 360.00 ms | +50.0 % |" in markdown
    assert "| shared | code | 30.00 ms | 45.00 ms | +50.0 % |" in markdown
    assert "| shared | gc-gen0 |" not in markdown  # stalled no run of either suite
