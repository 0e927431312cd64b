"""A new mode is one class: registered, it has its column, colour and label everywhere."""

import numpy as np
import pytest
from matplotlib.image import imread

from bench.cli import main
from bench.gate.settings import GateSettings, settings_from
from bench.report.summary import summary_sentences
from bench.suite.table import metric_tables, render_markdown
from bench.workload import MODES, Mode, floor_mode, register

RGB = (0x00, 0xCE, 0xD1)


class DummyMode(Mode):
    """A mode that exists only in these tests; its agents never run."""

    name = "dummy"
    description = "a mode of the tests"
    bytes_per_agent = 10 * 1024
    label = "the dummy engine"
    colour = "#00ced1"  # in no palette of the report: found in a plot, it is the declared one
    ratios_to = {"raw": "what the dummy costs over the floor"}

    def agent(self, agent):
        raise NotImplementedError

    def engines(self):
        return []


@pytest.fixture
def dummy():
    """DummyMode in the registry for one test, out of it afterwards."""
    register(DummyMode)
    yield DummyMode
    del MODES[DummyMode.name]


def documents(make_run):
    """Runs of shared, raw and a third mode renamed dummy (per_agent's figures) at 16 agents."""
    runs = [
        make_run(mode, 16, repeat) for mode in ("per_agent", "shared", "raw") for repeat in (0, 1)
    ]
    for run in runs:
        if run["config"]["mode"] == "per_agent":
            run["config"]["mode"] = "dummy"
    return runs


def test_the_suite_table_has_the_dummys_column_and_ratio(dummy, run_document):
    tables = metric_tables(documents(run_document), ("shared", "raw", "dummy"), (16,))
    lag = next(table for table in tables if table.metric.path == "loop_lag.p99_ms")
    assert lag.ratio_names == ["shared/raw", "dummy/raw"]
    assert lag.rows[0].ratios["dummy/raw"] == pytest.approx(40.0 / 5.0)
    assert "| agents | shared | raw | dummy | shared/raw | dummy/raw |" in render_markdown(tables)


def test_the_gate_measures_it_by_default_and_accepts_it(dummy):
    assert GateSettings().modes == ("per_agent", "shared", "raw", "dummy")
    assert settings_from({"modes": ["dummy", "raw"]}).modes == ("dummy", "raw")
    assert floor_mode() == "raw"


def test_the_report_shows_its_column_label_and_colour(dummy, tmp_path, suite_writer):
    path = suite_writer(tmp_path, names={"per_agent": "dummy"})
    assert main(["report", str(path), "--out-dir", str(tmp_path / "out"), "--quiet"]) == 0
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| agents | shared | raw | dummy | shared/raw | dummy/raw |" in markdown
    assert "with raw asyncio and 90.45 ms with the dummy engine." in markdown
    assert (
        "against the raw-asyncio floor of 100.00 µs: the shared engine 2.50x (250.00 µs), "
        "the dummy engine 3.00x (300.00 µs)." in markdown
    )
    bars = imread(tmp_path / "out" / "report_files" / "memory.png")[..., :3]
    dummy_pixels = np.all(np.abs(bars * 255 - RGB) < 1, axis=-1).sum()
    assert dummy_pixels > 1000  # its bars, in its own colour


def test_unregistered_it_is_only_a_name(run_document):
    tables = metric_tables(documents(run_document), ("shared", "raw", "dummy"), (16,))
    assert all("dummy/raw" not in table.ratio_names for table in tables)
    assert "with mode dummy" in " ".join(summary_sentences(tables))
    assert GateSettings().modes == ("per_agent", "shared", "raw")
