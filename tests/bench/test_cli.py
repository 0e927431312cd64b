"""`python -m bench`: input checked before any work, result documents, signals and smoke runs."""

import errno
import gc
import importlib.util
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench.commands.run
import bench.result_file
import bench.workload.capacity
from bench.cli import main
from bench.commands.run import RunOptions, build_spec
from bench.probes.loop_lag import MAX_INTERVAL_SECONDS
from bench.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL_KEYS = {
    "schema", "meta", "config", "metrics", "series", "interrupted", "status", "errors",
}  # fmt: skip
META_KEYS = {
    "commit",
    "dirty",
    "python",
    "platform",
    "cpu_model",
    "cores",
    "loop",
    "clock",
    "started_at",
    "command",
}
ALWAYS_MEASURED = {"work", "convergence", "engine", "cpu", "memory", "objects"}
TIME_BASED = {"loop_lag", "frame", "stalls"}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a run would start: every check must come before any work."""

    def execute(*args, **kwargs):
        pytest.fail("the run started although the input was bad")

    monkeypatch.setattr(bench.commands.run, "execute", execute)


# --- bad input --------------------------------------------------------------------------------

NON_SQUARE = (
    "--agents must be a square number (agents sit on a square grid), got 2501: "
    "the nearest are 2500 (50x50) and 2601 (51x51); or give --grid-side"
)

LAG_INTERVAL = (
    "--lag-interval must be in (0, 30] seconds (the loop-lag probe records lags up to 60 s, "
    "which must hold two intervals)"
)

BAD_INPUT = [
    pytest.param(["--agents", "2501"], NON_SQUARE, id="non-square-agents"),
    pytest.param(
        ["--agents", "25", "--grid-side", "4"],
        "--agents 25 does not match --grid-side 4 (4x4 = 16); give only one of them",
        id="agents-vs-grid-side",
    ),
    pytest.param(
        ["--grid-side", "2"], "--grid-side must be at least 3, got 2", id="grid-side-too-small"
    ),
    pytest.param(
        ["--agents", "4"], "--agents must be at least 9 (a 3x3 grid), got 4", id="agents-too-few"
    ),
    pytest.param(["--period", "0"], "--period must be > 0 seconds, got 0.0", id="period-zero"),
    pytest.param(
        ["--period", "-1"], "--period must be > 0 seconds, got -1.0", id="period-negative"
    ),
    pytest.param(
        ["--duration", "0"], "--duration must be > 0 seconds, got 0.0", id="duration-zero"
    ),
    pytest.param(
        ["--nudge", "-0.1"],
        "--nudge must be in [0, period) = [0, 5.0) seconds, got -0.1",
        id="nudge-negative",
    ),
    pytest.param(
        ["--nudge", "5"],
        "--nudge must be in [0, period) = [0, 5.0) seconds, got 5.0",
        id="nudge-equals-period",
    ),
    pytest.param(
        ["--period", "2", "--nudge", "3"],
        "--nudge must be in [0, period) = [0, 2.0) seconds, got 3.0",
        id="nudge-above-period",
    ),
    pytest.param(
        ["--mode", "threads"],
        "unknown mode 'threads'; choose one of: per_agent, shared, bare, raw",
        id="unknown-mode",
    ),
    pytest.param(
        ["--loop", "trio"], "unknown loop 'trio'; choose one of: asyncio, uvloop", id="unknown-loop"
    ),
    pytest.param(
        ["--gc", "sometimes"],
        "--gc must be one of default, freeze, off-during-run, got 'sometimes'",
        id="unknown-gc",
    ),
    pytest.param(
        ["--stall-threshold", "0"],
        "--stall-threshold must be a number of milliseconds > 0, got 0.0",
        id="stall-threshold-0",
    ),
    pytest.param(
        ["--clock", "wall"],
        "unknown clock 'wall'; choose one of: real, virtual",
        id="unknown-clock",
    ),
    pytest.param(
        ["--clock", "virtual", "--loop", "uvloop"],
        "--clock virtual needs --loop asyncio: looptime patches asyncio's own event loop "
        "and cannot fast-forward uvloop",
        id="virtual-clock-on-uvloop",
    ),
    *(
        pytest.param(["--lag-interval", value], f"{LAG_INTERVAL}, got {shown}", id=f"lag-{value}")
        for value, shown in [
            ("0", "0.0"),
            ("-1", "-1.0"),
            ("31", "31.0"),
            ("30.000001", "30.000001"),
            ("inf", "inf"),
            ("nan", "nan"),
        ]
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_refused_before_any_work(args, message, tmp_path, capsys, no_work):
    out = tmp_path / "runs" / "x.json"
    started = time.perf_counter()

    status = main(["run", *args, "--quiet", "--out", str(out)])

    assert status == 2
    assert time.perf_counter() - started < 5.0  # no 20 s run was started
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n"
    assert captured.out == ""
    assert not out.parent.exists()  # not even the result folder was created


def test_missing_uvloop_is_refused_with_install_advice(monkeypatch, tmp_path, capsys, no_work):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "uvloop" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    out = tmp_path / "x.json"

    status = main(["run", "--loop", "uvloop", "--quiet", "--out", str(out)])

    assert status == 2
    assert capsys.readouterr().err == (
        "error: --loop uvloop was requested but uvloop is not installed: "
        "`pip install uvloop` (or use --loop asyncio)\n"
    )
    assert not out.exists()


def test_out_whose_parent_is_a_file_is_refused(tmp_path, capsys, no_work):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    out = afile / "x.json"

    status = main(["run", "--quiet", "--out", str(out)])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: cannot write --out {out}: {afile} is a file, not a folder\n"
    )
    assert afile.read_text() == "not a folder"


def test_out_that_is_a_directory_is_refused(tmp_path, capsys, no_work):
    status = main(["run", "--quiet", "--out", str(tmp_path)])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: --out {tmp_path} is a directory; give a file name such as {tmp_path}/run.json\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_fifo_is_refused_and_left_a_fifo(tmp_path, capsys, no_work):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    status = main(["run", "--quiet", "--out", str(fifo)])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: cannot write --out {fifo}: it exists and is not a regular file "
        "(a device, pipe or socket); give a file name\n"
    )
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_the_longest_lag_interval_the_probe_can_record_is_accepted():
    spec = build_spec(RunOptions(lag_interval=30.0))

    assert spec.lag_interval == MAX_INTERVAL_SECONDS == 30.0


@pytest.fixture
def memory_21_gib(monkeypatch):
    monkeypatch.setattr(bench.workload.capacity, "available_memory", lambda: 21 * 2**30)


@pytest.mark.parametrize(
    ("agents", "need"),
    [(10**8, "about 1.2 TiB"), (10**30, "more than 1,024 EiB")],
    ids=["1e8", "1e30"],
)
def test_more_agents_than_memory_holds_are_refused(agents, need, capsys, no_work, memory_21_gib):
    status = main(["run", "--agents", str(agents), "--quiet"])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: --agents {agents} in mode shared needs {need} (13 KiB per agent, measured) "
        "but 21 GiB is available; use at most 1,684,804 (1298x1298)\n"
    )


def test_demo_and_profile_check_memory_too(capsys, monkeypatch, memory_21_gib):
    def started(*args, **kwargs):
        pytest.fail("the command started although the input was bad")

    monkeypatch.setattr("bench.commands.demo.execute", started)
    monkeypatch.setattr("bench.commands.profile.find_py_spy", started)
    for command in ("demo", "profile"):
        assert main([command, "--mode", "per_agent", "--agents", str(10**8)]) == 2
        assert capsys.readouterr().err == (
            f"error: --agents {10**8} in mode per_agent needs about 1.6 TiB (17 KiB per agent, "
            "measured) but 21 GiB is available; use at most 1,288,225 (1135x1135)\n"
        )


def test_demo_checks_its_input_too(capsys, monkeypatch):
    def execute(*args, **kwargs):
        pytest.fail("the demo started although the input was bad")

    monkeypatch.setattr("bench.commands.demo.execute", execute)

    assert main(["demo", "--agents", "2501"]) == 2
    assert capsys.readouterr().err == f"error: {NON_SQUARE}\n"


def test_help_lists_the_commands(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")

    assert main(["--help"]) == 0

    out = capsys.readouterr().out
    assert re.search(r"\brun\s+Run the firefly workload in one mode", out)
    assert re.search(r"\bdemo\s+Show the live grid of flashes", out)


# --- runs -------------------------------------------------------------------------------------


def test_virtual_clock_run_writes_a_complete_result(tmp_path, capsys):
    out = tmp_path / "x.json"
    args = [
        "run", "--mode", "shared", "--agents", "25", "--duration", "20",
        "--clock", "virtual", "--quiet", "--out", str(out),
    ]  # fmt: skip

    assert main(args) == 0

    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")  # --quiet
    document = load(out)
    assert set(document) == TOP_LEVEL_KEYS
    assert document["schema"] == SCHEMA_VERSION
    assert document["interrupted"] is False
    meta = document["meta"]
    assert set(meta) >= META_KEYS
    assert (meta["clock"], meta["loop"]) == ("virtual", "asyncio")
    assert meta["command"].endswith(" -m bench " + " ".join(args))
    config = document["config"]
    assert (config["mode"], config["agents"], config["side"]) == ("shared", 25, 5)
    assert config["duration"] == 20.0
    metrics = document["metrics"]
    assert set(metrics) >= ALWAYS_MEASURED
    assert not TIME_BASED & set(metrics)  # the virtual clock reports no time-based lag
    assert metrics["work"]["flashes"] > 0
    assert metrics["work"]["agent_errors"] == 0
    assert metrics["work"]["run_s"] == pytest.approx(20.0)
    assert metrics["engine"]["engines"] == 1
    assert document["errors"] == {"agents": [], "probes": {}}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("mode", "engines"), [("per_agent", 100), ("shared", 1), ("raw", 0)], ids=str
)
def test_real_clock_smoke_run(mode, engines, tmp_path, capsys):
    out = tmp_path / f"{mode}.json"

    args = ["run", "--mode", mode, "--agents", "100", "--duration", "1.5", "--quiet"]

    assert main([*args, "--out", str(out)]) == 0

    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")  # --quiet
    document = load(out)
    assert document["interrupted"] is False
    assert document["meta"]["clock"] == "real"
    metrics = document["metrics"]
    assert set(metrics) >= ALWAYS_MEASURED | TIME_BASED
    assert metrics["loop_lag"]["count"] > 0
    assert metrics["frame"]["frames"] > 0
    assert metrics["work"]["flashes"] > 0
    assert metrics["work"]["agent_errors"] == 0
    assert metrics["work"]["run_s"] == pytest.approx(1.5, abs=0.5)
    assert metrics["engine"]["engines"] == engines
    assert document["errors"] == {"agents": [], "probes": {}}
    stalls = metrics["stalls"]
    assert stalls["count"] == len(document["series"]["stalls"])
    assert stalls["threshold_ms"] == 20.0
    assert set(stalls["by_cause_ms"]) == {
        "gc-gen0",
        "gc-gen1",
        "gc-gen2",
        "start-up",
        "code",
        "unknown",
    }
    assert document["series"]["loop_utilisation"]["busy"]
    assert document["config"]["gc"] == "default"


def test_gc_freeze_and_no_stalls_are_recorded(tmp_path):
    out = tmp_path / "frozen.json"
    args = ["run", "--mode", "raw", "--agents", "25", "--duration", "0.5", "--quiet"]

    assert main([*args, "--gc", "freeze", "--no-stalls", "--out", str(out)]) == 0

    document = load(out)
    assert (document["config"]["gc"], document["config"]["stalls"]) == ("freeze", False)
    assert "stalls" not in document["metrics"]
    assert gc.get_freeze_count() == 0  # unfrozen after the run


# Rich draws its progress bar live only on a terminal; these make it do so into a file, so
# the test can see the run has started ("running (s)" appears after its first second).
_LIVE_PROGRESS_ENV = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "FORCE_COLOR": "1"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_stops_the_run_and_keeps_a_partial_result(signum, tmp_path):
    out, err_path = tmp_path / "run.json", tmp_path / "stderr.txt"
    command = [
        sys.executable, "-m", "bench", "run",
        "--mode", "shared", "--agents", "100", "--duration", "60", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, **_LIVE_PROGRESS_ENV}
    with err_path.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            # Wait until the run is clearly going (or, failing that, has had ample time to).
            deadline = time.monotonic() + 8.0
            while b"running" not in err_path.read_bytes() and time.monotonic() < deadline:
                assert process.poll() is None, err_path.read_text(errors="replace")
                time.sleep(0.05)
            process.send_signal(signum)
            status = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    assert status == 130, stderr
    assert f"{signum.name} received: stopping the run and keeping what was measured" in stderr
    assert "INTERRUPTED, partial result written to" in stderr
    document = load(out)
    assert document["interrupted"] is True
    metrics = document["metrics"]
    assert 0 < metrics["work"]["run_s"] < 30
    assert metrics["loop_lag"]["count"] > 0
    assert metrics["frame"]["frames"] > 0
    assert {p.name for p in tmp_path.iterdir()} == {"run.json", "stderr.txt"}  # no temp file


# --- a result that cannot be written ----------------------------------------------------------

VIRTUAL_RUN = ["run", "--agents", "25", "--duration", "5", "--clock", "virtual", "--quiet"]


def fail_writing(monkeypatch, *only):
    """Make writing fail with a full disk: every write, or only those to the `only` paths."""
    real_write = bench.result_file.write_text_atomic

    def write_text_atomic(path, text):
        if not only or path in only:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, text)

    monkeypatch.setattr(bench.result_file, "write_text_atomic", write_text_atomic)


def test_a_full_disk_keeps_the_result_in_the_temporary_folder(
    tmp_path, temporary_folder, monkeypatch, capsys
):
    out = tmp_path / "runs" / "x.json"
    fail_writing(monkeypatch, out)

    status = main([*VIRTUAL_RUN, "--out", str(out)])

    assert status == 1
    [kept] = temporary_folder.iterdir()
    assert kept.name.startswith("x-") and kept.suffix == ".json"
    assert load(kept)["metrics"]["work"]["flashes"] > 0
    size = kept.stat().st_size
    assert size < 2**20  # shown in bytes, not MiB
    assert capsys.readouterr() == (
        "",
        f"error: cannot write --out {out}: No space left on device (the result needs "
        f"{size:,} bytes); kept it in {kept} instead\n",
    )
    assert list(out.parent.iterdir()) == []


def test_a_result_that_fits_nowhere_goes_to_stderr(tmp_path, temporary_folder, monkeypatch, capsys):
    out = tmp_path / "x.json"

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)  # the real writes, cut short by a full disk

    status = main([*VIRTUAL_RUN, "--out", str(out)])

    assert status == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    document, message = captured.err.splitlines()
    assert json.loads(document)["metrics"]["work"]["flashes"] > 0
    size = len(json.dumps(json.loads(document), indent=1)) + 1  # as the file would have been
    assert message == (
        f"error: cannot write --out {out}: No space left on device (the result needs "
        f"{size:,} bytes), nor in {temporary_folder}: No space left on device; "
        "the result is on stderr above"
    )
    assert list(tmp_path.iterdir()) == [temporary_folder]  # no temporary file left anywhere
    assert list(temporary_folder.iterdir()) == []
