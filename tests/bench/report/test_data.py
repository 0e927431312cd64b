import json
import shutil
import statistics

import pytest

from bench.errors import BenchError
from bench.report.data import load_suite


def test_values_match_the_run_documents_and_the_runs_are_found(tmp_path, suite_writer):
    suite = load_suite(suite_writer(tmp_path))
    lag = suite.values["loop_lag.p99_ms"][("shared", 36)]
    assert statistics.median(lag) == pytest.approx(20.0 * 36 / 16 * 1.005)
    assert suite.modes == ("per_agent", "shared", "raw") and suite.agents == (16, 36)
    assert suite.runs_dir == tmp_path / "runs" / "suite-test"
    assert len(suite.documents) == 12 and suite.notes == []
    assert suite.metadata["suite_profile"] == "quick"


def test_a_suite_without_runs_dir_finds_the_folder_whose_runs_it_holds(tmp_path, suite_writer):
    path = suite_writer(tmp_path, meta={"commit": "abc1234def"})
    other = tmp_path / "runs" / "suite-20261129T000000Z-abc1234def"
    (tmp_path / "runs" / "suite-test").rename(
        tmp_path / "runs" / "suite-20261130T000000Z-abc1234def"
    )
    other.mkdir()  # an older suite of the same commit: its runs are not this suite's
    shutil.copy(next((tmp_path / "runs").glob("suite-2026113*/*.json")), other / "x.json")
    suite = _without_runs_dir(path)
    assert suite.runs_dir.name == "suite-20261130T000000Z-abc1234def"
    assert len(suite.documents) == 12


def test_missing_runs_are_a_note_not_an_error(tmp_path, suite_writer):
    path = suite_writer(tmp_path)
    shutil.rmtree(tmp_path / "runs")
    suite = load_suite(path)
    assert suite.documents == [] and suite.runs_dir is None
    assert suite.notes == [
        f"the runs of latest.json are not in {tmp_path / 'runs/suite-test'} (its runs_dir)"
    ]
    assert _without_runs_dir(path).notes == [
        f"latest.json records no runs_dir and no folder {tmp_path / 'runs'}/suite-* has its runs"
    ]


def test_unreadable_suite_is_a_user_error(tmp_path):
    with pytest.raises(BenchError, match=r"^cannot read suite .*nope.json: "):
        load_suite(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(BenchError, match=r"^cannot read suite .*bad.json: "):
        load_suite(tmp_path / "bad.json")


def test_partial_run_documents_are_skipped_with_a_note(tmp_path, suite_writer):
    path = suite_writer(tmp_path)
    runs = tmp_path / "runs" / "suite-test"
    (runs / "a-bare.json").write_text('{"schema": 1}')
    odd = json.loads(next(runs.glob("per_agent-*.json")).read_text())
    (runs / "b-odd.json").write_text(json.dumps({**odd, "metrics": []}))
    suite = load_suite(path)
    assert len(suite.documents) == 12
    advice = "re-run the measurement with this version"
    assert suite.notes == [
        f'skipped a-bare.json: {runs / "a-bare.json"} lacks "meta", which result schema 1 '
        f"requires: {advice}",
        f'skipped b-odd.json: {runs / "b-odd.json"} has "metrics" as a list, result schema 1 '
        f"requires an object: {advice}",
    ]


def _without_runs_dir(path):
    data = json.loads(path.read_text())
    for bench in data["benchmarks"]:
        bench.get("metadata", {}).pop("runs_dir", None)
        for run in bench["runs"]:
            run.get("metadata", {}).pop("runs_dir", None)
    data.get("metadata", {}).pop("runs_dir", None)
    path.write_text(json.dumps(data))
    return load_suite(path)
