"""The plain-text run summary: value formatting per unit and which headline rows appear."""

import pytest

from bench.metrics import HEADLINE
from bench.summary import format_value, summary_rows


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0, "bytes", "0 B"),
        (1023, "bytes", "1,023 B"),
        (1024, "bytes", "1.0 KiB"),
        (13_107, "bytes", "12.8 KiB"),
        (1536.0, "bytes", "1.5 KiB"),
        (3 * 1024**2, "bytes", "3.0 MiB"),
        (5.5 * 1024**3, "bytes", "5.5 GiB"),
        (2048 * 1024**3, "bytes", "2,048.0 GiB"),
        (-2048, "bytes", "-2.0 KiB"),
        (0, "count", "0"),
        (1_234_567, "count", "1,234,567"),
        (3.0, "count", "3"),
        (6.7, "count", "6.7"),
        (12_345.66, "count", "12,345.7"),
        (0.5, "ms", "0.50 ms"),
        (1234.567, "ms", "1,234.57 ms"),
        (559.07, "us", "559.07 µs"),
        (12_345.0, "us", "12,345.00 µs"),
        (0.61449, "ratio", "0.614"),
        (2.5, "ratio", "2.500"),
        (0.0081, "s", "0.008 s"),
        (20, "s", "20.000 s"),
        (60.06, "1/s", "60.1 1/s"),
        (12_000, "1/s", "12,000.0 1/s"),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize("unit", ["bytes", "count", "ms", "us", "ratio", "s", "1/s"])
def test_format_value_of_nothing_is_a_dash(unit):
    assert format_value(None, unit) == "-"


def _document(groups: set[str]) -> dict:
    """A document whose present groups have every headline metric, valued 1."""
    metrics: dict[str, dict] = {}
    for metric in HEADLINE:
        group, key = metric.path.split(".", 1)
        if group in groups:
            metrics.setdefault(group, {})[key] = 1
    return {"metrics": metrics}


ALL_GROUPS = {"loop_lag", "frame", "work", "convergence", "memory", "objects"}


def test_summary_rows_follow_headline_order():
    rows = summary_rows(_document(ALL_GROUPS))

    assert [label for label, _ in rows] == [metric.label for metric in HEADLINE]
    assert rows[0] == ("event-loop lag p50", "1.00 ms")
    assert ("RSS per agent", "1 B") in rows
    assert ("CPU per generation", "1.00 µs") in rows


def test_summary_rows_skip_groups_a_virtual_clock_run_does_not_have():
    rows = summary_rows(_document(ALL_GROUPS - {"loop_lag", "frame"}))

    labels = [label for label, _ in rows]
    expected = [
        metric.label for metric in HEADLINE if not metric.path.startswith(("loop_lag.", "frame."))
    ]
    assert labels == expected
    assert labels[0] == "CPU per generation"
    assert not any("lag" in label or "frame" in label for label in labels)


def test_summary_rows_show_a_dash_for_a_missing_value_of_a_present_group():
    document = _document(ALL_GROUPS)
    document["metrics"]["work"]["flashes_per_s"] = None
    del document["metrics"]["work"]["setup_s"]

    rows = dict(summary_rows(document))

    assert rows["flashes per second"] == "-"
    assert rows["setup time"] == "-"
    assert rows["flashes"] == "1"


def test_summary_rows_of_a_document_without_metrics_is_empty():
    assert summary_rows({}) == []
    assert summary_rows({"metrics": {}}) == []


def test_stall_rows_give_the_causes_and_the_longest_stalling_function():
    from bench.summary import stall_rows

    stalls = [
        {"cause": "gc-gen1", "duration_ms": 30.0, "function": None},
        {"cause": "code", "duration_ms": 70.0, "function": "f a.py:1"},
    ]
    metrics = {
        "threshold_ms": 20.0,
        "count": 2,
        "total_ms": 100.0,
        "share_by_cause": {"gc-gen1": 0.3, "code": 0.7, "unknown": 0.0},
    }
    document = {"metrics": {"stalls": metrics}, "series": {"stalls": stalls}}
    assert stall_rows(document) == [
        ("stalls > 20 ms", "2, 100 ms: code 70%, gc-gen1 30%"),
        ("stalled longest by", "code: f a.py:1 (70 ms)"),
    ]
    quiet = {"metrics": {"stalls": {**metrics, "count": 0}}}
    assert stall_rows(quiet) == [("stalls > 20 ms", "none")]
    assert stall_rows({"metrics": {}}) == []
