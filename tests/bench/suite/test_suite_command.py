import contextlib
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyperf
import pytest

import bench.commands.suite as suite_module
from bench.cli import main
from bench.commands.suite import SuiteOptions, suite_command
from bench.suite.worker import WorkerFailed

pytestmark = pytest.mark.usefixtures("quiet_machine")

ROOT = Path(__file__).resolve().parents[3]


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
        (["--repeat", "0"], "--repeat must be at least 1, got 0"),
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


@pytest.fixture
def sigterm_fails_the_test():
    """A SIGTERM the suite does not handle fails the test instead of killing pytest."""

    def unhandled(signum, frame):
        raise AssertionError("SIGTERM reached the test: the suite did not handle it")

    previous = signal.signal(signal.SIGTERM, unhandled)
    yield unhandled
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_stops_like_ctrl_c_with_exit_143(
    tmp_path, monkeypatch, document, capsys, sigterm_fails_the_test
):
    (tmp_path / "latest.json").write_text('{"previous": true}')
    calls = []

    def run(config, out, timeout=None):
        calls.append(config.label)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGTERM)  # what a CI timeout sends
        return document(config.mode, config.agents)

    monkeypatch.setattr(suite_module, "run_worker", run)
    assert suite_command(_options(tmp_path)) == 143
    assert signal.getsignal(signal.SIGTERM) is sigterm_fails_the_test  # restored after the runs
    assert json.loads((tmp_path / "latest.json").read_text()) == {"previous": True}
    (copy,) = tmp_path.glob("2*Z-*.json")
    assert pyperf.BenchmarkSuite.load(str(copy)).get_metadata()["suite_complete"] is False
    assert (tmp_path / f"{copy.stem}.md").exists()
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"stopped by SIGTERM after 3 of 16 runs: the runs so far are in "
        f"{tmp_path / copy.stem}.json and .md; {tmp_path}/latest.* left as they were"
    )


def test_sigterm_stops_the_real_worker_and_leaves_no_orphan(tmp_path):
    """`python -m bench suite` in a process of its own: SIGTERM while its worker runs."""
    sizes = ["--modes", "raw", "--agents", "100", "--duration", "30", "--repeat", "1"]
    command = [sys.executable, "-m", "bench", "suite", "--profile", "quick", *sizes]
    pipe = subprocess.PIPE
    with subprocess.Popen(
        [*command, "--results-dir", str(tmp_path)], cwd=ROOT, stdout=pipe, stderr=pipe, text=True
    ) as suite:
        worker = _wait_for_worker(suite)
        try:
            suite.send_signal(signal.SIGTERM)
            _, err = suite.communicate(timeout=15)
            assert suite.returncode == 143
            assert err.splitlines()[-1] == (
                "stopped by SIGTERM with no run finished: nothing written; "
                f"{tmp_path}/latest.* left as they were"
            )
            assert not worker.is_running()  # stopped and reaped before the suite exited
        finally:
            if worker.is_running():
                worker.kill()  # the orphan of a broken suite: do not leave it to run 30 s
            suite.kill()


def _wait_for_worker(suite: subprocess.Popen, timeout: float = 10.0) -> psutil.Process:
    """The suite's `python -m bench run` child, once it exists (not `pyperf system show`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(suite.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.cmdline()[1:4] == ["-m", "bench", "run"]:
                    return child
        time.sleep(0.05)
    suite.kill()
    raise AssertionError(f"no worker started within {timeout} s")


def test_a_failed_run_is_not_reported_done(tmp_path, monkeypatch, document, capsys):
    def run(config, out, timeout=None):
        if config.label == "shared-16":
            raise WorkerFailed("shared-16: worker killed by SIGKILL:\n(no output)")
        return document(config.mode, config.agents)

    monkeypatch.setattr(suite_module, "run_worker", run)
    assert suite_command(_options(tmp_path, quiet=False, repeat=1)) == 1
    lines = capsys.readouterr().err.splitlines()
    assert "failed shared-16 #1" in lines and "done shared-16 #1" not in lines
    assert "done raw-16 #1" in lines


def test_a_failure_is_shown_verbatim_even_with_quiet(tmp_path, monkeypatch, document, capsys):
    """Worker stderr is not rich markup: `list[int]` stays, `[/x]` does not crash the summary."""
    failure = "raw-16: worker exited with 1:\nTypeError: list[int] expected [/x] " + "y" * 100

    def run(config, out, timeout=None):
        if config.label == "raw-16":
            raise WorkerFailed(failure)
        return document(config.mode, config.agents)

    monkeypatch.setattr(suite_module, "run_worker", run)
    assert suite_command(_options(tmp_path, repeat=1)) == 1
    assert f"failed: {failure}\n" in capsys.readouterr().err  # one line, however long


@pytest.mark.parametrize("failing", ["latest.md", "copy.json"])
def test_a_file_that_cannot_be_written_is_named_and_the_runs_are_kept(
    failing, tmp_path, monkeypatch, fake_worker, capsys
):
    dump, write = suite_module.dump_atomic, suite_module.write_text_atomic

    def full_disk(real):
        def writer(*args, **kwargs):
            name = next(arg for arg in args if isinstance(arg, Path)).name
            if name == failing or (failing == "copy.json" and re.match(r"2\d+T\d+Z-.*json", name)):
                raise OSError(errno.ENOSPC, "No space left on device")
            real(*args, **kwargs)

        return writer

    monkeypatch.setattr(suite_module, "dump_atomic", full_disk(dump))
    monkeypatch.setattr(suite_module, "write_text_atomic", full_disk(write))
    assert suite_command(_options(tmp_path)) == 1
    line = capsys.readouterr().err.splitlines()[-1]
    where = re.escape(str(tmp_path))
    found = re.fullmatch(
        rf"error: cannot write {where}/(\S+): No space left on device; "
        rf"the run documents are kept in {where}/runs/suite-(\S+)",
        line,
    )
    assert found, line
    assert found[1] == ("latest.md" if failing == "latest.md" else f"{found[2]}.json")


def test_a_scale_suite_keys_each_layout_apart(tmp_path, monkeypatch, document):
    monkeypatch.setattr("bench.suite.matrix.mosquitto_path", lambda: "/usr/sbin/mosquitto")
    files = []

    def run(config, out, timeout=None):
        files.append(out.name)
        found = document(config.mode, config.agents, lag_p99=1.0 + len(files))
        found["config"] |= {"transport": config.transport, "workers": config.workers}
        found["meta"]["clock"] = config.clock
        return found

    monkeypatch.setattr(suite_module, "run_worker", run)
    options = _options(tmp_path, profile="scale", agents=[16], repeat=2)
    assert suite_command(options) == 0
    assert files[0] == "raw-16-virtual-r1.json"  # the reference, once
    assert len(files) == 1 + 2 * 3 * 2 == len(set(files))
    assert "shared-16-mqtt-2w-r2.json" in files and "shared-16-r1.json" in files
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    names = suite.get_benchmark_names()
    for name in ("shared/16", "shared/16/mqtt-1w", "raw/16/mqtt-2w", "raw/16/virtual"):
        assert f"loop_lag.p99_ms/{name}" in names
    assert len(suite.get_benchmark("loop_lag.p99_ms/shared/16/mqtt-2w").get_values()) == 2
    markdown = (tmp_path / "latest.md").read_text()
    assert (
        "| agents | shared | raw | shared@mqtt-1w | raw@mqtt-1w | shared@mqtt-2w | raw@mqtt-2w "
        "| raw@virtual | shared/raw |"
    ) in markdown
    assert "`mqtt-2w` = over MQTT, 2 worker processes" in markdown
    # every run's clock
    assert "loop asyncio, clock virtual and real, gc default; started" in markdown
