import pytest

from bench.metrics import BY_PATH
from bench.suite.table import make_cell, metric_tables, ratio, render_markdown


def test_cell_is_median_and_mad():
    cell = make_cell([10.0, 12.0, 30.0])
    assert (cell.median, cell.mad, cell.n) == (12.0, 2.0, 3)
    assert make_cell([]) is None


def test_ratio_of_medians_and_undefined_cases():
    assert ratio(make_cell([4.0]), make_cell([2.0])) == 2.0
    assert ratio(make_cell([4.0]), make_cell([0.0])) is None
    assert ratio(None, make_cell([2.0])) is None


def test_tables_have_a_row_per_size_and_the_two_ratios(document):
    docs = [
        document(m, a, lag_p99=v)
        for m, a, v in [
            ("per_agent", 16, 30.0),
            ("per_agent", 16, 34.0),
            ("shared", 16, 10.0),
            ("shared", 16, 12.0),
            ("raw", 16, 5.0),
            ("raw", 16, 6.0),
            ("shared", 36, 20.0),
        ]
    ]
    tables = metric_tables(docs, ("per_agent", "shared", "raw"), (16, 36))
    lag = next(t for t in tables if t.metric is BY_PATH["loop_lag.p99_ms"])
    first, second = lag.rows
    assert first.agents == 16 and first.cells["shared"].median == 11.0
    assert first.ratios["per_agent/shared"] == pytest.approx(32.0 / 11.0)
    assert first.ratios["shared/raw"] == pytest.approx(11.0 / 5.5)
    assert second.cells["per_agent"] is None and second.ratios["per_agent/shared"] is None
    assert lag.ratio_names == ["per_agent/shared", "shared/raw"]


def test_metrics_absent_from_every_document_get_no_table(document):
    tables = metric_tables([document("raw", 16)], ("raw",), (16,))
    paths = {t.metric.path for t in tables}
    assert "loop_lag.p99_ms" in paths and "frame.fps" not in paths


def test_markdown_table(document):
    docs = [document("shared", 16, lag_p99=10.0), document("raw", 16, lag_p99=5.0)]
    tables = metric_tables(docs, ("shared", "raw"), (16,), (BY_PATH["loop_lag.p99_ms"],))
    assert render_markdown(tables) == (
        "### event-loop lag p99 (ms)\n\n"
        "| agents | shared | raw | shared/raw |\n"
        "|---:|---:|---:|---:|\n"
        "| 16 | 10.00 ms | 5.00 ms | 2.00x |\n"
    )


def _in_layout(document, transport="mqtt", workers=2, clock="real"):
    document["config"] |= {"transport": transport, "workers": workers}
    document["meta"]["clock"] = clock
    return document


def test_a_mixed_suite_has_a_column_per_mode_and_layout(document):
    docs = [
        document("shared", 16, lag_p99=10.0),
        document("shared", 16, lag_p99=12.0),
        document("raw", 16, lag_p99=5.0),
        _in_layout(document("shared", 16, lag_p99=30.0), workers=1),
        _in_layout(document("shared", 16, lag_p99=40.0)),
        _in_layout(document("shared", 16, lag_p99=44.0)),
        _in_layout(document("raw", 16, lag_p99=1.0), "local", None, clock="virtual"),
    ]
    columns = ("shared", "raw", "shared@mqtt-1w", "shared@mqtt-2w", "raw@virtual")
    tables = metric_tables(docs, columns, (16,), (BY_PATH["loop_lag.p99_ms"],))
    (row,) = tables[0].rows
    medians = {column: cell.median for column, cell in row.cells.items()}
    assert medians == {
        "shared": 11.0, "raw": 5.0, "shared@mqtt-1w": 30.0, "shared@mqtt-2w": 42.0,
        "raw@virtual": 1.0,
    }  # fmt: skip
    assert row.ratios["shared/raw"] == pytest.approx(11.0 / 5.0)  # of the plain columns only
    assert tables[0].ratio_names == ["shared/raw"]
    assert render_markdown(tables).splitlines()[2:5] == [
        "| agents | shared | raw | shared@mqtt-1w | shared@mqtt-2w | raw@virtual | shared/raw |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        "| 16 | 11.00 ± 1.00 ms | 5.00 ms | 30.00 ms | 42.00 ± 2.00 ms | 1.00 ms | 2.20x |",
    ]


def test_a_table_has_rows_only_where_its_metric_was_measured(document):
    docs = [document("shared", a, lag_p99=10.0) for a in (400, 900)]
    counts = [
        {
            "config": {"mode": "shared", "agents": 100},
            "metrics": {"instructions": {"per_generation": 7.0}},
        }
    ]
    tables = metric_tables(docs, ("shared",), (400, 900), counts=counts)
    by_path = {t.metric.path: t for t in tables}
    assert [row.agents for row in by_path["loop_lag.p99_ms"].rows] == [400, 900]
    (row,) = by_path["instructions.per_generation"].rows
    assert (row.agents, row.cells["shared"].median) == (100, 7.0)
    assert list(by_path)[-1] == "instructions.per_generation"  # after the headline metrics
