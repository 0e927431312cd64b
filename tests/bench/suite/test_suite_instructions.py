"""The suite's instruction counts: after the timed runs, in the pyperf suite, latest.md and
runs/, and a warning (not a failure) without valgrind. The counts are faked (conftest)."""

import json

import pyperf
import pytest

import bench.commands.suite as suite_module
from bench.cli import main
from bench.commands.suite import SuiteOptions, suite_command
from bench.errors import BenchError
from bench.suite.instructions import Counted

pytestmark = pytest.mark.usefixtures("quiet_machine")


def _options(tmp_path, **kwargs):
    values = {"profile": "quick", "agents": [16, 36], "repeat": 2, "results_dir": tmp_path}
    return SuiteOptions(**{**values, "quiet": True, **kwargs})


def test_each_mode_is_counted_once_after_every_timed_run(tmp_path, monkeypatch, document):
    order = []

    def run(config, out, timeout=None):
        order.append("timed")
        return document(config.mode, config.agents)

    def measure_each(children, valgrind):
        order.append("counted")
        return [Counted(c, "2026-11-29T13:00:00+00:00", error="unused") for c in children]

    monkeypatch.setattr(suite_module, "run_worker", run)
    monkeypatch.setattr(suite_module, "measure_each", measure_each)
    suite_command(_options(tmp_path))
    assert order == ["timed"] * 16 + ["counted"]


def test_the_counts_are_benchmarks_a_table_and_records(tmp_path, fake_worker, fake_counts):
    assert suite_command(_options(tmp_path)) == 0
    # the suite's smallest size (16 < 100 agents), every mode, in one call (two at a time)
    assert fake_counts == [[("per_agent", 16), ("shared", 16), ("bare", 16), ("raw", 16)]]
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    counted = suite.get_benchmark("instructions.per_generation/shared/16")
    assert counted.get_values() == (700_000.0,)
    metadata = counted.get_metadata()
    assert (metadata["clock"], metadata["valgrind"]) == ("virtual", "valgrind-3.19.0")
    assert (metadata["instructions_warmup_s"], metadata["instructions_duration_s"]) == (1.0, 2.0)
    assert metadata["date"] == "2026-11-29T13:00:00+00:00"
    assert "workload_duration_s" not in metadata  # the gate's --baseline reads the runs' own
    assert "instructions.per_generation/shared/36" not in suite.get_benchmark_names()
    assert suite.get_metadata()["instructions_elapsed_s"] >= 0
    markdown = (tmp_path / "latest.md").read_text()
    header = (
        "| agents | per_agent | shared | bare | raw | per_agent/shared | shared/bare | shared/raw |"
    )
    assert (
        f"### instructions per generation (count)\n\n{header}\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| 16 | 900,000 | 700,000 | 650,000 | 600,000 | 1.29x | 1.08x | 1.17x |\n"
    ) in markdown
    assert "one count per mode under valgrind-3.19.0 after the timed runs (16 agents, " in markdown
    (record,) = tmp_path.glob("runs/suite-*/instructions/shared-16.json")
    kept = json.loads(record.read_text())
    assert kept["config"] == {"mode": "shared", "agents": 16, "seed": 1}
    assert kept["metrics"]["instructions"]["per_generation"] == 700_000.0
    assert kept["command"] == "valgrind --tool=callgrind python"


def test_the_counts_are_made_at_100_agents_at_most(tmp_path, fake_worker, fake_counts):
    assert suite_command(_options(tmp_path, agents=[400, 900], repeat=1)) == 0
    assert fake_counts == [[(mode, 100) for mode in ("per_agent", "shared", "bare", "raw")]]
    markdown = (tmp_path / "latest.md").read_text()
    section = markdown.split("### instructions per generation (count)")[1]
    assert "\n| 100 | 900,000 |" in section and "| 400 |" not in section
    assert "| 100 |" not in markdown.split("### instructions per generation")[0]


def test_without_valgrind_a_warning_and_no_count(tmp_path, monkeypatch, fake_worker, capsys):
    def missing():
        raise BenchError(
            "valgrind is not installed: `sudo apt-get install valgrind` (Debian/Ubuntu)"
        )

    monkeypatch.setattr(suite_module, "find_valgrind", missing)
    assert suite_command(_options(tmp_path, quiet=False)) == 0
    err = capsys.readouterr().err
    assert (
        "warning: valgrind is not installed: `sudo apt-get install valgrind` (Debian/Ubuntu); "
        "the suite goes on without instructions per generation"
    ) in " ".join(err.split())
    assert err.index("warning: valgrind") < err.index("done per_agent-16 #1")  # before any run
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    assert not [n for n in suite.get_benchmark_names() if n.startswith("instructions.")]


def test_no_instructions_counts_nothing(tmp_path, fake_worker, fake_counts, capsys):
    sizes = ["--profile", "quick", "--agents", "16", "--repeat", "1"]
    status = main(["suite", *sizes, "--no-instructions", "--results-dir", str(tmp_path), "--quiet"])
    assert status == 0
    assert fake_counts == []
    assert "instructions" not in (tmp_path / "latest.md").read_text()


def test_a_failed_count_fails_the_suite_and_keeps_the_others(
    tmp_path, monkeypatch, fake_worker, cost_of, capsys
):
    def measure_each(children, valgrind):
        return [
            Counted(c, "2026-11-29T13:00:00+00:00", error="the measured run failed (exit 1)")
            if c.mode == "bare"
            else Counted(c, "2026-11-29T13:00:00+00:00", cost=cost_of(c))
            for c in children
        ]

    monkeypatch.setattr(suite_module, "measure_each", measure_each)
    assert suite_command(_options(tmp_path)) == 1
    assert "failed: instructions bare-16: the measured run failed (exit 1)" in (
        capsys.readouterr().err
    )
    names = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json")).get_benchmark_names()
    assert "instructions.per_generation/shared/16" in names
    assert "instructions.per_generation/bare/16" not in names
    (record,) = tmp_path.glob("runs/suite-*/instructions/bare-16.json")
    assert json.loads(record.read_text())["error"] == "the measured run failed (exit 1)"


def test_ctrl_c_while_counting_keeps_the_timed_runs_only_in_the_copy(
    tmp_path, monkeypatch, fake_worker
):
    (tmp_path / "latest.json").write_text('{"previous": true}')

    def measure_each(children, valgrind):
        raise KeyboardInterrupt

    monkeypatch.setattr(suite_module, "measure_each", measure_each)
    assert suite_command(_options(tmp_path)) == 130
    assert json.loads((tmp_path / "latest.json").read_text()) == {"previous": True}
    (copy,) = tmp_path.glob("2*Z-*.json")
    suite = pyperf.BenchmarkSuite.load(str(copy))
    assert len(suite.get_benchmark("loop_lag.p99_ms/shared/36").get_values()) == 2
    assert suite.get_metadata()["suite_complete"] is False
