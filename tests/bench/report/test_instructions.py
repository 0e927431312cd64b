"""The report of a suite with instruction counts: a table, a fact, a sentence, a comparison."""

from html import escape

import pytest

import bench.report.build as build_module
from bench.commands.report import ReportOptions, report_command
from bench.report.data import load_suite

PER_GENERATION = {"per_agent": 900_000.0, "shared": 700_000.0, "raw": 600_000.0}


def write(folder, suite_writer, counted, factor=1.0, **block):
    counts = [counted(mode, value * factor, **block) for mode, value in PER_GENERATION.items()]
    return suite_writer(folder, counts=counts)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, suite_writer, counted):
    old = write(tmp_path_factory.mktemp("old"), suite_writer, counted)
    new = write(
        tmp_path_factory.mktemp("new"), suite_writer, counted, 1.5, valgrind="valgrind-3.22.0"
    )
    out = tmp_path_factory.mktemp("out")
    assert report_command(ReportOptions([old, new], out, quiet=True)) == 0
    return old, new, out


def test_the_counts_are_a_table_of_their_own_size(pair):
    _, new, out = pair
    suite = load_suite(new)
    assert suite.agents == (9, 16, 36) and suite.timed_agents == (16, 36)
    (table,) = [t for t in suite.tables if t.metric.path == "instructions.per_generation"]
    assert [row.agents for row in table.rows] == [9]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert (
        "### instructions per generation (count)\n\n"
        "| agents | per\\_agent | shared | raw | per\\_agent/shared | shared/raw |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
        "| 9 | 1,350,000 | 1,050,000 | 900,000 | 1.29x | 1.17x |"
    ) in markdown
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h3>instructions per generation (count)</h3>" in html
    assert "<td>9</td><td>1,350,000</td><td>1,050,000</td><td>900,000</td>" in html


def test_the_facts_say_how_they_were_counted_and_keep_the_timed_runs_clock(pair):
    html = (pair[2] / "report.html").read_text(encoding="utf-8")
    assert "<dt>agents</dt><dd>16, 36</dd>" in html
    assert "<dt>loop, clock</dt><dd>asyncio, real</dd>" in html
    assert (
        escape(
            "per generation under valgrind-3.22.0: 9 agents, 1 s of warm-up then 2 s counted, on "
            "the virtual clock; took unknown"
        )
        in html
    )


def test_a_sentence_against_the_floor(pair):
    html = (pair[2] / "report.html").read_text(encoding="utf-8")
    sentence = (
        "In instructions per generation at 9 agents (under valgrind), against the raw-asyncio "
        "floor of 900,000: the shared engine 1.17x (1,050,000), per-agent engines 1.50x "
        "(1,350,000)."
    )
    assert f"<li>{escape(sentence)}</li>" in html


def test_the_comparison_has_the_counts_and_their_set_up(pair):
    out = pair[2]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    row = "| instructions per generation | shared | 9 | 700,000 | 1,050,000 | +50.0 % | - |"
    assert f"{row} untested |" in markdown
    html = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Set-ups differ: valgrind differs: valgrind-3.19.0 (old) vs valgrind-3.22.0 (new)" in html
    )


def test_the_scaling_plot_leaves_the_counts_out(tmp_path, suite_writer, counted, monkeypatch):
    drawn = []
    real = build_module.plots.scaling_figure

    def scaling_figure(tables):
        drawn.extend(t.metric.path for t in tables)
        return real(tables)

    monkeypatch.setattr(build_module.plots, "scaling_figure", scaling_figure)
    path = write(tmp_path, suite_writer, counted)
    assert report_command(ReportOptions([path], tmp_path / "out", quiet=True)) == 0
    assert "loop_lag.p99_ms" in drawn and "instructions.per_generation" not in drawn
