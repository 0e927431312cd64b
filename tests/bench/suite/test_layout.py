"""Layouts: how a configuration's transport and worker processes key it, and older keys stay."""

import pytest

from bench.suite.layout import (
    LOCAL,
    Layout,
    column_key,
    column_label,
    document_column,
    is_plain,
    is_virtual,
    order_columns,
    parse_tag,
    split_column,
    tag_of,
    tag_words,
)


@pytest.mark.parametrize(
    ("layout", "clock", "tag", "words"),
    [
        (LOCAL, "real", "", "local, 1 process"),
        (Layout("mqtt", 1), "real", "mqtt-1w", "mqtt, 1 worker"),
        (Layout("mqtt", 2), "real", "mqtt-2w", "mqtt, 2 workers"),
        (Layout("mqtt"), "real", "mqtt", "mqtt, 1 process"),
        (LOCAL, "virtual", "virtual", "local, 1 process, virtual clock"),
    ],
)
def test_a_tag_names_the_layout_and_clock_and_parses_back(layout, clock, tag, words):
    assert tag_of(layout, clock) == tag
    assert parse_tag(tag) == (layout, clock)
    assert tag_words(tag) == words


def test_one_local_process_keeps_the_plain_mode_as_its_key():
    assert column_key("shared") == "shared" and column_key("shared", "") == "shared"
    assert column_key("shared", "mqtt-2w") == "shared@mqtt-2w"
    assert split_column("shared@mqtt-2w") == ("shared", "mqtt-2w")
    assert split_column("per_agent") == ("per_agent", "")
    assert is_plain("raw") and not is_plain("raw@virtual")
    assert is_virtual("raw@virtual") and not is_virtual("raw@mqtt-2w") and not is_virtual("raw")
    assert column_label("shared") == "shared"
    assert column_label("shared@mqtt-2w") == "shared (mqtt, 2 workers)"


def test_the_options_of_bench_run_per_layout():
    assert LOCAL.argv() == []
    assert Layout("mqtt", 1).argv() == ["--transport", "mqtt", "--broker", "auto", "--workers", "1"]
    assert Layout("mqtt", 2).words == "over MQTT, 2 worker processes"
    assert LOCAL.words == "one process, in memory"


def _document(mode="shared", clock="real", **config):
    return {"meta": {"clock": clock}, "config": {"mode": mode, "agents": 16, **config}}


def test_a_document_is_keyed_by_its_mode_layout_and_clock():
    schema_1 = {"meta": {"clock": "real"}, "config": {"mode": "shared", "agents": 16}}
    assert document_column(schema_1) == "shared"  # a suite written before layouts
    assert document_column(_document(transport="local", broker=None)) == "shared"
    assert document_column(_document(transport="mqtt", workers=2)) == "shared@mqtt-2w"
    assert document_column(_document(transport="mqtt", workers=None)) == "shared@mqtt"
    assert document_column(_document("raw", clock="virtual", transport="local")) == "raw@virtual"


def test_columns_are_ordered_plain_first_then_by_workers_virtual_last():
    found = [
        "raw@virtual",
        "shared@mqtt-2w",
        "raw",
        "odd",
        "shared",
        "raw@mqtt-1w",
        "shared@mqtt-1w",
    ]
    assert order_columns(found, ("shared", "raw")) == (
        "shared", "raw", "odd", "shared@mqtt-1w", "raw@mqtt-1w", "shared@mqtt-2w", "raw@virtual",
    )  # fmt: skip
