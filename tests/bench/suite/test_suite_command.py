import json

import pyperf
import pytest

import bench.commands.suite as suite_module
from bench.cli import main
from bench.commands.suite import SuiteOptions, suite_command
from bench.suite.machine import MachineState
from bench.suite.worker import WorkerFailed


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch):
    monkeypatch.setattr(
        suite_module, "read_machine_state", lambda: MachineState(1.0, 0.1, 2, None, "none")
    )


@pytest.fixture
def fake_worker(monkeypatch, document):
    calls = []

    def run(config, out, timeout=None):
        calls.append(config.label)
        return document(config.mode, config.agents, lag_p99=float(len(calls)))

    monkeypatch.setattr(suite_module, "run_worker", run)
    return calls


def _options(tmp_path, **kwargs):
    values = {"profile": "quick", "agents": [16, 36], "repeat": 2, "results_dir": tmp_path}
    return SuiteOptions(**{**values, "quiet": True, **kwargs})


def test_every_run_goes_into_latest_json_and_md(tmp_path, fake_worker):
    assert suite_command(_options(tmp_path)) == 0
    assert len(fake_worker) == 4 * 2 * 2  # modes x sizes x repeats
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    lag = suite.get_benchmark("loop_lag.p99_ms/shared/36")
    assert len(lag.get_values()) == 2
    metadata = lag.get_metadata()
    assert metadata["suite_profile"] == "quick" and metadata["suite_complete"] is True
    assert metadata["suite_elapsed_s"] >= 0
    markdown = (tmp_path / "latest.md").read_text()
    header = (
        "| agents | per_agent | shared | bare | raw | per_agent/shared | shared/bare | shared/raw |"
    )
    assert header in markdown
    assert len(list(tmp_path.glob("2*Z-*.json"))) == 1  # the timestamped copy
    (copy,) = tmp_path.glob("2*Z-*.json")
    assert metadata["runs_dir"] == f"runs/suite-{copy.stem}"  # where the report finds the runs


def test_a_crashed_worker_is_reported_and_the_others_finish(
    tmp_path, monkeypatch, document, capsys
):
    def run(config, out, timeout=None):
        if config.label == "shared-16":
            raise WorkerFailed("shared-16: worker exited with 1:\nTraceback ... boom")
        return document(config.mode, config.agents)

    monkeypatch.setattr(suite_module, "run_worker", run)
    status = suite_command(_options(tmp_path, quiet=False))
    assert status == 1
    assert "shared-16: worker exited with 1:\nTraceback ... boom" in capsys.readouterr().err
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    assert "loop_lag.p99_ms/shared/16" not in suite.get_benchmark_names()
    assert len(suite.get_benchmark("loop_lag.p99_ms/shared/36").get_values()) == 2


def test_an_interrupted_suite_keeps_latest_json_untouched(tmp_path, monkeypatch, document):
    (tmp_path / "latest.json").write_text('{"previous": true}')
    calls = []

    def run(config, out, timeout=None):
        calls.append(config.label)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return document(config.mode, config.agents)

    monkeypatch.setattr(suite_module, "run_worker", run)
    assert suite_command(_options(tmp_path)) == 130
    assert json.loads((tmp_path / "latest.json").read_text()) == {"previous": True}
    assert not (tmp_path / "latest.md").exists()
    partial = next(tmp_path.glob("2*Z-*.json"))
    metadata = pyperf.BenchmarkSuite.load(str(partial)).get_metadata()
    assert metadata["suite_complete"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "huge"], "unknown profile 'huge'; choose one of: quick, default, full"),
        (["--repeat", "0"], "REPEAT must be at least 1, got 0"),
        (
            ["--modes", "shared turbo"],
            "unknown mode 'turbo'; choose one of: per_agent, shared, bare, raw",
        ),
        (["--agents", "400 401"], "--agents must be a square number"),
        (["--agents", "lots"], "--agents takes whole numbers, got 'lots'"),
    ],
)
def test_bad_input_is_refused_before_any_run(args, message, tmp_path, fake_worker, capsys):
    status = main(["suite", *args, "--results-dir", str(tmp_path), "--quiet"])
    assert status == 2
    assert capsys.readouterr().err.startswith(f"error: {message}")
    assert fake_worker == [] and list(tmp_path.iterdir()) == []


def test_quick_profile_end_to_end_at_tiny_sizes(tmp_path):
    """Real worker processes: 4 modes x 16 and 36 agents, 1 s each, once."""
    sizes = ["--agents", "16,36", "--duration", "1", "--repeat", "1"]
    status = main(
        ["suite", "--profile", "quick", *sizes, "--results-dir", str(tmp_path), "--quiet"]
    )
    assert status == 0
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    names = set(suite.get_benchmark_names())
    for mode in ("per_agent", "shared", "bare", "raw"):
        for agents in (16, 36):
            assert f"loop_lag.p99_ms/{mode}/{agents}" in names
            assert f"work.cpu_us_per_generation/{mode}/{agents}" in names
    runs = list((tmp_path / "runs").glob("suite-*/*.json"))
    assert len(runs) == 8  # the raw run documents are kept beside the suite
    assert "### CPU per generation (us)" in (tmp_path / "latest.md").read_text()
