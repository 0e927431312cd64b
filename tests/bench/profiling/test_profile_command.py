"""`python -m bench profile`: input checked before work, tool failures, outputs, one smoke run."""

import json
import os
import signal
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import bench
import bench.commands.profile
from bench.cli import main
from bench.commands.profile import ProfileOptions, check_options
from bench.commands.run import RunOptions
from bench.profiling import Sampling
from bench.profiling.cpu import CpuProfile, Interrupted

PERMISSION = (
    "error: py-spy was not permitted to trace the run (ptrace refused); grant it by running as "
    "root, by giving the CAP_SYS_PTRACE capability (docker: --cap-add SYS_PTRACE), "
    "or with `sysctl kernel.yama.ptrace_scope=0`\n"
)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a profile would start: every check must come before any work."""

    def start(*args, **kwargs):
        pytest.fail("the profile started although the input was bad")

    for name in ("profile_run", "record_flamegraph", "run_memray"):
        monkeypatch.setattr(bench.commands.profile, name, start)


def fake_py_spy(monkeypatch, tmp_path: Path, script: str) -> Path:
    path = tmp_path / "bin" / "py-spy"
    path.parent.mkdir(parents=True)
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(bench.commands.profile, "find_py_spy", lambda: path)
    return path


def too_fast(rate: int) -> str:
    return (
        f"--rate must be at most 1000 samples per second, got {rate}: py-spy pauses the run "
        "for every sample and cannot keep up beyond that"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--agents", "2501"],
            "--agents must be a square number (agents sit on a square grid), got 2501: "
            "the nearest are 2500 (50x50) and 2601 (51x51); or give --grid-side",
        ),
        (["--mode", "fast"], "unknown mode 'fast'; choose one of: per_agent, shared, bare, raw"),
        (
            ["--compare", "shared", "fast"],
            "unknown mode 'fast'; choose one of: per_agent, shared, bare, raw",
        ),
        (
            ["--compare", "shared", "shared"],
            "--compare needs two different modes, got 'shared' twice",
        ),
        (
            ["--compare", "per_agent", "shared", "--memory"],
            "--memory traces the set-up of one --mode; it cannot be used with --compare",
        ),
        (["--rate", "0"], "--rate must be at least 1 sample per second, got 0"),
        (["--rate", "1001"], too_fast(1001)),
        (["--rate", "1000000"], too_fast(1000000)),
        (["--memory", "--rate", "5000"], too_fast(5000)),
        (["--top", "0"], "--top must be at least 1, got 0"),
        (["--duration", "0"], "--duration must be > 0 seconds, got 0.0"),
        (["--loop", "trio"], "unknown loop 'trio'; choose one of: asyncio, uvloop"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_any_work(args, message, tmp_path, capsys, no_work):
    assert main(["profile", "--out-dir", str(tmp_path), *args]) == 2

    assert capsys.readouterr().err == f"error: {message}\n"


def test_missing_py_spy_is_refused_before_any_work(monkeypatch, tmp_path, capsys, no_work):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setattr(bench.profiling.pyspy.shutil, "which", lambda name: None)

    assert main(["profile", "--agents", "16", "--out-dir", str(tmp_path)]) == 2

    assert capsys.readouterr().err == (
        f"error: py-spy is not installed: it is neither next to {tmp_path}/venv/bin/python nor "
        "on PATH; install the project's dependencies (make setup) or "
        "`pip install 'py-spy>=0.3.14,<0.5'`\n"
    )


def test_an_unwritable_out_dir_is_refused_before_any_work(tmp_path, capsys, no_work):
    blocker = tmp_path / "file"
    blocker.write_text("")

    assert main(["profile", "--agents", "16", "--out-dir", str(blocker / "profiles")]) == 2

    assert capsys.readouterr().err == (
        f"error: cannot write --out-dir {blocker}/profiles/profile.json: "
        f"{blocker} is a file, not a folder\n"
    )


def test_refused_ptrace_says_what_grants_it(monkeypatch, tmp_path, capsys):
    fake_py_spy(
        monkeypatch,
        tmp_path,
        'echo "Permission Denied: Try running again with elevated permissions by going '
        '\'sudo env \\"PATH=\\$PATH\\" !!\'" >&2\nexit 1',
    )

    assert main(["profile", "--agents", "16", "--out-dir", str(tmp_path / "out")]) == 2

    assert capsys.readouterr().err.endswith(f"...\n{PERMISSION}")


def test_a_failing_child_shows_the_end_of_its_stderr(monkeypatch, tmp_path, capsys):
    fake_py_spy(
        monkeypatch,
        tmp_path,
        "echo 'py-spy> Sampling process 100 times a second.'\n"
        "echo 'Traceback (most recent call last):' >&2\n"
        "echo 'RuntimeError: the broker fell over' >&2\nexit 0",
    )

    assert main(["profile", "--agents", "16", "--out-dir", str(tmp_path / "out")]) == 2

    assert capsys.readouterr().err.endswith(
        "error: the profiled run failed and wrote no result; the end of its output:\n"
        "py-spy> Sampling process 100 times a second.\n"
        "Traceback (most recent call last):\n"
        "RuntimeError: the broker fell over\n"
    )


RUN = "run (bench/runner.py:1)"
ENGINE = "Engine.run (cascade/runtime/engine.py:5)"
LISTEN = "listen (bench/workload/physics.py:4)"
PROFILES = {
    "per_agent": Counter({(RUN, ENGINE): 70, (RUN, LISTEN): 30}),
    "shared": Counter({(RUN, ENGINE): 40, (RUN, LISTEN): 60}),
}


def fake_document(mode: str) -> dict:
    return {
        "meta": {"dirty": False, "started_at": "2026-11-29T12:00:00+00:00"},
        "config": {"mode": mode, "agents": 16},
        "metrics": {"work": {"flashes_per_s": 5.0, "cpu_us_per_generation": 300.0, "run_s": 1.0}},
        "interrupted": False,
        "profiled": True,
    }


def test_compare_profiles_both_modes_and_writes_the_differential(monkeypatch, tmp_path, capsys):
    fake_py_spy(monkeypatch, tmp_path, "echo 'py-spy 0.4.3'")
    profiled = []

    def profile_run(py_spy, spec, files, sampling, shorten):
        profiled.append(spec.mode)
        return CpuProfile(PROFILES[spec.mode], fake_document(spec.mode), interrupted=False)

    monkeypatch.setattr(bench.commands.profile, "profile_run", profile_run)
    monkeypatch.setattr(bench.commands.profile, "record_flamegraph", lambda *args: None)
    monkeypatch.setattr(
        bench.commands.profile, "collect_meta", lambda **kw: {"commit": "0123456789abcdef"}
    )
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "out"

    argv = ["profile", "--compare", "per_agent", "shared", "--agents", "16", "--out-dir", str(out)]
    assert main(argv) == 0

    assert profiled == ["per_agent", "shared"]
    top = json.loads((out / "0123456789-shared-16.top.json").read_text())
    assert (top["samples"], top["all_samples"], top["imports_pct"]) == (100, 100, 0.0)
    assert top["sampling"] == {"rate_hz": 100, "idle": False, "native": False, "gil": False}
    assert top["run"] == {"flashes_per_s": 5.0, "cpu_us_per_generation": 300.0, "run_s": 1.0}
    diff = json.loads((out / "0123456789-per_agent-vs-shared-16.diff.json").read_text())
    assert (diff["a"], diff["b"], diff["commit"], diff["agents"], diff["imports_left_out"]) == (
        "per_agent", "shared", "0123456789abcdef", 16, True,
    )  # fmt: skip
    assert diff["by_self"][0] == {
        "function": "Engine.run (cascade/runtime/engine.py)",
        "group": "engine",
        "self_a": 70.0,
        "self_b": 40.0,
        "self_delta": -30.0,
        "total_a": 70.0,
        "total_b": 40.0,
        "total_delta": -30.0,
    }
    printed = capsys.readouterr().out
    assert "largest changes in self share: per_agent → shared" in printed
    assert "-30.0" in printed


def test_smoke_profile_of_a_real_run(tmp_path, capsys, monkeypatch):
    """py-spy on a real `bench run` of 16 agents for 1 s: every file, flagged, tabled."""
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "profiles"

    assert main(["profile", "--agents", "16", "--duration", "1", "--out-dir", str(out)]) == 0

    files = {path.name.split("-", 1)[1] for path in out.iterdir()}
    assert files == {
        "shared-16.svg",
        "shared-16.speedscope.json",
        "shared-16.collapsed.txt",
        "shared-16.top.json",
        "shared-16.run.json",
    }
    (run_file,) = out.glob("*.run.json")
    assert json.loads(run_file.read_text())["profiled"] is True
    (svg,) = out.glob("*.svg")
    assert "<svg" in svg.read_text()[:2000]
    (top_file,) = out.glob("*.top.json")
    top = json.loads(top_file.read_text())
    assert top["samples"] > 0
    assert [row["group"] for row in top["groups"]] == [
        "engine",
        "workload",
        "asyncio",
        "probes",
        "rest",
    ]
    assert top["tool"].startswith("py-spy ")
    assert "where the samples went" in capsys.readouterr().out


def test_ctrl_c_keeps_what_py_spy_wrote_and_exits_130(monkeypatch, tmp_path, capsys):
    fake_py_spy(monkeypatch, tmp_path, "exit 0")

    def profile_run(py_spy, spec, files, sampling, shorten):
        raise Interrupted(files.speedscope)

    monkeypatch.setattr(bench.commands.profile, "profile_run", profile_run)
    monkeypatch.setattr(bench.commands.profile, "collect_meta", lambda **kw: {"commit": "abc"})
    monkeypatch.setenv("COLUMNS", "300")
    out = tmp_path / "out"

    assert main(["profile", "--agents", "16", "--out-dir", str(out)]) == 130

    assert capsys.readouterr().err.endswith(
        "interrupted: py-spy stopped the run; its samples so far are in "
        f"{out}/abc-shared-16.speedscope.json\n"
    )


def test_the_highest_rate_is_taken():
    options = ProfileOptions(RunOptions(agents=16), sampling=Sampling(rate=1000))
    assert [spec.mode for spec in check_options(options)] == ["shared"]


DRIVER = """
import sys
from pathlib import Path
import bench.commands.profile as profile
profile.find_py_spy = lambda: Path(sys.argv[1])
profile.collect_meta = lambda **kw: {"commit": "abc"}
from bench.cli import main
print("starting", flush=True)
sys.exit(main(["profile", "--agents", "16", "--out-dir", sys.argv[2]]))
"""


def test_sigterm_to_bench_profile_stops_py_spy_and_its_run_and_reaps_them(stand_in):
    """The whole command as a process of its own: SIGTERM is handled as Ctrl-C."""
    out = stand_in.folder / "out"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(stand_in.script()), str(out)],
        cwd=Path(bench.__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    tool, run = stand_in.pid("py-spy"), stand_in.pid("run")

    driver.send_signal(signal.SIGTERM)
    _, err = driver.communicate(timeout=60)

    assert driver.returncode == 130, err
    assert err.endswith(
        "interrupted: py-spy stopped the run; its samples so far are in "
        f"{out}/abc-shared-16.speedscope.json\n"
    )
    assert stand_in.reaped(tool) and stand_in.gone(run)
