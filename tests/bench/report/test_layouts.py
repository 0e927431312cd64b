"""The report of a suite with layouts: the scaling table, agents per core, delivery latency.

The synthetic scale suite (tests/bench/conftest.py) has round numbers: the reference flashes
0.25 times per agent-second, one local process 96% of that, MQTT with 1 worker 88%, with 2
workers 80%; a local agent costs 0.0005 cores, an MQTT one 0.001 (repeats x0.9, 1.0, 1.2).
"""

import shutil

import pytest

from bench.cli import main
from bench.report.build import build_report, compare, plain_tables
from bench.report.data import load_suite
from bench.report.layouts import (
    HEADER,
    describe_statuses,
    format_row,
    has_layouts,
    per_core_lines,
    scale_sentences,
    scale_table,
)

_NO_VALUES = "no values > 0 on one side (pyperf keeps none)"
COLUMNS = (
    "shared", "raw", "shared@mqtt-1w", "raw@mqtt-1w", "shared@mqtt-2w", "raw@mqtt-2w",
    "raw@virtual",
)  # fmt: skip


@pytest.fixture(scope="module")
def scale_report(tmp_path_factory, scale_suite_writer):
    folder = tmp_path_factory.mktemp("scale")
    path = scale_suite_writer(folder)
    assert main(["report", str(path), "--out-dir", str(folder / "out"), "--quiet"]) == 0
    return path, folder / "out"


def _rows(documents):
    table = scale_table(documents, COLUMNS)
    return table, {(row.column, row.agents): row for row in table.rows}


def test_the_scaling_table_by_hand(scale_suite_writer, tmp_path):
    suite = load_suite(scale_suite_writer(tmp_path))
    table, rows = _rows(suite.documents)
    assert table.reference == {16: 4.0, 36: 9.0} and table.reference_column == "raw@virtual"
    assert [(r.column, r.agents) for r in table.rows][:4] == [
        ("shared", 16), ("shared", 36), ("raw", 16), ("raw", 36),
    ]  # fmt: skip
    assert ("raw@virtual", 16) not in rows  # the reference is not a row
    row = rows[("shared@mqtt-2w", 36)]
    assert row.runs == 3 and row.status == "3 complete"
    assert row.flashes_per_s == pytest.approx(36 * 0.25 * 0.8)
    assert row.of_reference == pytest.approx(0.8)
    assert row.cores == pytest.approx(0.036)  # 36 x 0.001, the median repeat
    assert row.agents_per_core == pytest.approx(1000.0)  # median of 1111, 1000, 833
    assert row.lag_p99_ms == 12.0
    assert (row.delivery_p50_ms, row.delivery_p99_ms) == (1.0, 2.5)
    assert row.broker_in_per_s == pytest.approx(7.2 * 8)
    assert row.broker_out_per_s == pytest.approx(7.2 * 8 * 0.75)
    assert row.broker_cores == pytest.approx(57.6 * 1.75 * 5e-6)
    local = rows[("shared", 36)]
    assert local.agents_per_core == pytest.approx(2000.0)
    assert local.of_reference == pytest.approx(0.96)
    assert local.delivery_p99_ms is None and local.broker_cores is None
    assert rows[("shared@mqtt-2w", 16)].status == "2 complete, 1 degraded"


def test_rows_as_text(scale_suite_writer, tmp_path):
    _, rows = _rows(load_suite(scale_suite_writer(tmp_path)).documents)
    text = dict(zip(HEADER, format_row(rows[("shared@mqtt-2w", 36)]), strict=True))
    assert text == {
        "mode": "shared", "layout": "mqtt, 2 workers", "agents": "36", "runs": "3",
        "flashes/s": "7.2 1/s", "of reference": "80.0%", "CPU per generation": "1,250.00 µs",
        "cores used": "0.04", "agents per core": "1,000", "worst lag p99": "12.00 ms",
        "delivery p50": "1.00 ms", "delivery p99": "2.50 ms", "broker in/s": "58",
        "broker out/s": "43", "broker CPU (cores)": "0.00", "status": "3 complete",
    }  # fmt: skip
    assert format_row(rows[("raw", 16)])[11] == "-"  # no delivery in one local process


def test_agents_per_core_lines_and_sentences(scale_suite_writer, tmp_path):
    table, _ = _rows(load_suite(scale_suite_writer(tmp_path)).documents)
    lines = {line.column: line for line in per_core_lines(table)}
    assert list(lines) == list(COLUMNS[:-1])
    assert lines["raw"].agents == (16, 36)
    assert lines["raw"].agents_per_core == pytest.approx((2000.0, 2000.0))
    sentences = scale_sentences(table)
    assert len(sentences) == 2  # one per mode
    assert sentences[0] == (
        "At 36 agents, the shared engine: local, 1 process: 2,000 agents per busy core (flashes "
        "at 96.0% of the physics' reference); mqtt, 1 worker: 1,000 agents per busy core "
        "(flashes at 88.0% of the physics' reference, delivery p99 2.50 ms); mqtt, 2 workers: "
        "1,000 agents per busy core (flashes at 80.0% of the physics' reference, delivery p99 "
        "2.50 ms)."
    )


def test_without_a_reference_the_share_is_left_out(scale_run_document):
    documents = [scale_run_document("shared", 16, tag, 1) for tag in ("", "mqtt-2w")]
    table = scale_table(documents, ("shared", "shared@mqtt-2w"))
    assert table.reference == {} and table.reference_column is None
    assert all(row.of_reference is None for row in table.rows)
    assert format_row(table.rows[0])[5] == "-"


def test_a_suite_without_layouts_has_no_scaling_table(run_document):
    documents = [run_document("shared", 16, 0), run_document("raw", 16, 0)]
    assert not has_layouts(documents)
    assert scale_table(documents, ("shared", "raw")) is None


def test_statuses_of_older_documents_come_from_interrupted():
    assert describe_statuses([{"interrupted": False}, {"interrupted": True}, {}]) == (
        "2 complete, 1 interrupted"
    )


def test_the_report_shows_the_table_and_both_plots(scale_report):
    out = scale_report[1]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "## Scaling: transports and worker processes" in markdown
    assert "| shared | mqtt, 2 workers | 36 | 3 | 7.2 1/s | 80.0% |" in markdown
    assert '<section id="scaling">' in html and "mqtt, 2 workers" in html
    assert (out / "report_files" / "agents_per_core.png").stat().st_size > 1000
    assert (out / "report_files" / "delivery_cdf.png").stat().st_size > 1000
    assert 'id="plot-agents_per_core"' in html and 'id="plot-delivery_cdf"' in html
    assert "- **layouts:** mqtt-1w, mqtt-2w, virtual" in markdown


def test_the_summary_compares_the_modes_as_before_and_adds_the_layouts(
    scale_suite_writer, tmp_path
):
    suite = load_suite(scale_suite_writer(tmp_path))
    report = build_report([suite])
    cut = plain_tables(suite.tables)
    assert all(t.modes == ("shared", "raw") for t in cut)
    assert report.summary[0].startswith("Event-loop lag p99 at 36 agents is 10.00 ms")
    assert report.summary[-1].startswith("At 36 agents, raw asyncio: local, 1 process")
    assert [p.name for p in report.plots][-2:] == ["agents_per_core", "delivery_cdf"]


def test_a_suite_of_one_local_process_gets_none_of_it(tmp_path, suite_writer):
    report = build_report([load_suite(suite_writer(tmp_path))])
    assert report.scale is None
    assert not {"agents_per_core", "delivery_cdf"} & {p.name for p in report.plots}
    assert not any("scaling table" in note or "delivery" in note for note in report.notes)


def test_without_run_documents_the_table_is_a_note(scale_suite_writer, tmp_path):
    path = scale_suite_writer(tmp_path)
    shutil.rmtree(tmp_path / "runs")
    report = build_report([load_suite(path)])
    assert report.scale is None
    assert any(note.startswith("The scaling table and its plots") for note in report.notes)


def test_without_delivery_histograms_the_plot_is_a_note(
    scale_run_document, scale_suite_writer, tmp_path
):
    documents = [
        scale_run_document(mode, 16, tag, repeat)
        for tag in ("", "mqtt-2w")
        for mode in ("shared", "raw")
        for repeat in range(2)
    ]
    for document in documents:
        document["series"].pop("delivery_histogram", None)
    report = build_report([load_suite(scale_suite_writer(tmp_path, documents))])
    assert report.scale is not None
    assert "delivery_cdf" not in {p.name for p in report.plots}
    assert any(note.startswith("No delivery_histogram in the raw runs") for note in report.notes)


def test_a_scale_suite_compares_with_itself_and_with_an_older_suite(
    tmp_path, scale_suite_writer, suite_writer
):
    scale = load_suite(scale_suite_writer(tmp_path / "scale"))
    again = load_suite(scale_suite_writer(tmp_path / "again"))
    older = load_suite(suite_writer(tmp_path / "older"))  # modes only, as before layouts
    same = compare(scale, again)
    mqtt = [c for c in same.changes if c.mode == "shared@mqtt-2w" and c.agents == 36]
    assert mqtt and all(c.significance.untested_because != _NO_VALUES for c in mqtt)
    across = compare(older, scale)
    assert {c.mode for c in across.changes} == {"shared", "raw"}  # the local runs only


def test_a_virtual_run_may_take_longer_than_a_real_one():
    from bench.commands.suite import _timeout
    from bench.suite.worker import WorkerConfig

    assert _timeout(WorkerConfig("raw", 22500, 20.0)) == 20.0 * 4 + 300
    assert _timeout(WorkerConfig("raw", 22500, 20.0, clock="virtual")) == 22500 * 20 * 1e-3 + 300
