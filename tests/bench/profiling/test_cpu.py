"""One py-spy profile: the child's command line and the "profiled": true flag."""

import json
import sys
from pathlib import Path

import pytest

from bench.commands.run import RunOptions, build_spec
from bench.errors import BenchError
from bench.profiling.child import Finished
from bench.profiling.cpu import flag_profiled, run_argv
from bench.result_file import write_json_atomic


def test_the_child_is_a_quiet_bench_run_of_the_same_configuration():
    spec = build_spec(RunOptions("per_agent", agents=16, period=2.0, nudge=0.1, duration=3.0))

    assert run_argv(spec, Path("/p/x.run.json")) == [
        sys.executable, "-m", "bench", "run", "--mode", "per_agent", "--agents", "16",
        "--duration", "3.0", "--period", "2.0", "--nudge", "0.1", "--seed", "1",
        "--clock", "real", "--loop", "asyncio", "--quiet", "--out", "/p/x.run.json",
    ]  # fmt: skip


DOCUMENT = {
    "schema": 1,
    "meta": {"commit": "abc", "dirty": False, "started_at": "2026-11-29T12:00:00+00:00"},
    "config": {"mode": "shared", "agents": 16},
    "metrics": {"work": {"flashes_per_s": 3.5, "cpu_us_per_generation": 300.0, "run_s": 1.0}},
    "series": {},
    "interrupted": False,
    "errors": {"agents": [], "probes": {}},
}


def test_the_run_document_is_flagged_profiled_and_rewritten(tmp_path):
    run_file = tmp_path / "x.run.json"
    write_json_atomic(run_file, DOCUMENT)

    flagged = flag_profiled(run_file, Finished(0, ""))

    assert flagged["profiled"] is True
    on_disk = json.loads(run_file.read_text())
    assert on_disk["profiled"] is True
    assert on_disk == {**DOCUMENT, "profiled": True}
    assert [p.name for p in tmp_path.iterdir()] == ["x.run.json"]  # no temporary left over


def test_a_run_that_wrote_nothing_shows_the_end_of_its_output(tmp_path):
    output = "py-spy> Sampling process 100 times a second\nTraceback (most recent call last):\n"
    output += "ValueError: boom\n"

    with pytest.raises(BenchError) as error:
        flag_profiled(tmp_path / "missing.run.json", Finished(0, output))

    assert str(error.value) == (
        "the profiled run failed and wrote no result; the end of its output:\n"
        "py-spy> Sampling process 100 times a second\n"
        "Traceback (most recent call last):\n"
        "ValueError: boom"
    )
