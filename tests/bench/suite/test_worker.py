"""run_worker with stand-in workers: a `bench` package in a temporary folder (`cwd=`)."""

import contextlib
import signal
import textwrap
import time

import psutil
import pytest

import bench.suite.worker as worker_module
from bench.suite.worker import WorkerConfig, WorkerFailed, run_worker

CONFIG = WorkerConfig("raw", 16, 1.0)


class _Stop(Exception):
    """Raised in the test's main thread while run_worker waits for its worker."""


def _fake_bench(folder, main: str):
    """A `bench` package whose `python -m bench` runs `main` (it writes its pid first)."""
    package = folder / "bench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    prologue = "import os, pathlib, signal, sys, time\n"
    prologue += "pathlib.Path('pid').write_text(str(os.getpid()))\n"
    (package / "__main__.py").write_text(prologue + textwrap.dedent(main))
    return folder


def _pid(folder) -> int:
    return int((folder / "pid").read_text())


def test_the_command_line_asks_for_a_slowdown_only_when_given_one(tmp_path):
    plain = CONFIG.argv(tmp_path / "out.json")
    assert "--inject-slowdown" not in plain  # a base's engine may not have instruments
    slowed = WorkerConfig("shared", 16, 1.0, inject_slowdown=0.15).argv(tmp_path / "out.json")
    assert slowed[-2:] == ["--inject-slowdown", "0.15"]


def test_a_killed_worker_names_its_signal(tmp_path):
    folder = _fake_bench(tmp_path, """
        print('dying', file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)  # fmt: skip
    with pytest.raises(WorkerFailed) as failed:
        run_worker(CONFIG, tmp_path / "out.json", cwd=folder)
    assert str(failed.value) == "raw-16: worker killed by SIGKILL:\ndying"


def test_an_exit_status_is_reported_as_such(tmp_path):
    folder = _fake_bench(tmp_path, "sys.exit(3)\n")
    with pytest.raises(WorkerFailed) as failed:
        run_worker(CONFIG, tmp_path / "out.json", cwd=folder)
    assert str(failed.value) == "raw-16: worker exited with 3:\n(no output)"


def test_stray_bytes_in_the_stderr_are_replaced_not_a_traceback(tmp_path):
    folder = _fake_bench(tmp_path, "sys.stderr.buffer.write(b'bad \\xff byte'); sys.exit(1)\n")
    with pytest.raises(WorkerFailed) as failed:
        run_worker(CONFIG, tmp_path / "out.json", cwd=folder)
    assert str(failed.value) == "raw-16: worker exited with 1:\nbad \ufffd byte"


def test_a_timeout_stops_and_reaps_the_worker(tmp_path):
    folder = _fake_bench(tmp_path, "time.sleep(60)\n")
    with pytest.raises(WorkerFailed) as failed:
        run_worker(CONFIG, tmp_path / "out.json", timeout=0.5, cwd=folder)
    assert str(failed.value) == "raw-16: no result after 0.5 s"
    assert not psutil.pid_exists(_pid(folder))


def test_an_exception_while_waiting_stops_the_worker_with_sigterm_first(tmp_path):
    """As the suite's SIGTERM or Ctrl-C does: the worker may still write its partial result."""
    folder = _fake_bench(tmp_path, """
        def stop(signum, frame):
            pathlib.Path('stopped').write_text(signal.Signals(signum).name)
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        pathlib.Path('ready').touch()
        time.sleep(60)
    """)  # fmt: skip
    with _stop_when(folder / "ready"), pytest.raises(_Stop):
        run_worker(CONFIG, tmp_path / "out.json", cwd=folder)
    assert (folder / "stopped").read_text() == "SIGTERM"
    assert not psutil.pid_exists(_pid(folder))


def test_a_worker_that_ignores_sigterm_is_killed_after_the_grace(tmp_path, monkeypatch):
    monkeypatch.setattr(worker_module, "STOP_GRACE_S", 0.2)
    folder = _fake_bench(tmp_path, """
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pathlib.Path('ready').touch()
        time.sleep(60)
    """)  # fmt: skip
    started = time.monotonic()
    with _stop_when(folder / "ready"), pytest.raises(_Stop):
        run_worker(CONFIG, tmp_path / "out.json", cwd=folder)
    assert time.monotonic() - started < 5  # not the worker's 60 s
    assert not psutil.pid_exists(_pid(folder))


@contextlib.contextmanager
def _stop_when(ready):
    """Raise _Stop in the main thread (from SIGALRM) as soon as the file `ready` exists."""

    def fire(signum, frame):
        if not ready.exists():
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        raise _Stop

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_labels_of_one_local_process_are_as_before_and_layouts_add_a_tag(tmp_path):
    assert WorkerConfig("shared", 2500, 20.0).label == "shared-2500"
    mqtt = WorkerConfig("shared", 10000, 20.0, transport="mqtt", workers=2)
    assert mqtt.label == "shared-10000-mqtt-2w"
    assert WorkerConfig("shared", 10000, 20.0, transport="mqtt", workers=1).label == (
        "shared-10000-mqtt-1w"
    )
    assert WorkerConfig("raw", 2500, 20.0, clock="virtual").label == "raw-2500-virtual"
    argv = mqtt.argv(tmp_path / "out.json")
    assert argv[-6:] == ["--transport", "mqtt", "--broker", "auto", "--workers", "2"]
    assert "--transport" not in WorkerConfig("shared", 2500, 20.0).argv(tmp_path / "out.json")


def test_a_gc_mode_is_passed_on_and_the_default_left_to_bench_run(tmp_path):
    frozen = WorkerConfig("shared", 16, 1.0, gc="freeze").argv(tmp_path / "out.json")
    assert frozen[-2:] == ["--gc", "freeze"]
    assert "--gc" not in CONFIG.argv(tmp_path / "out.json")  # as before --gc existed
