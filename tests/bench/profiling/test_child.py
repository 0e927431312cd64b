"""The child-process shell: a stand-in py-spy and its run are stopped and reaped on every way out.

Signals go to a separate Python process running `run_child` (standing in for `bench
profile`), never to pytest. See conftest.py for the stand-in.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench.profiling.child as child
from bench.profiling.child import Finished, run_child

ROOT = Path(child.__file__).resolve().parents[2]

STOPPED = "py-spy> Stopped sampling because Control-C pressed"

DRIVER = """
import json, sys
from pathlib import Path
from bench.profiling.child import run_child
try:
    finished = run_child([sys.argv[1]], Path(sys.argv[1]).parent, grace=float(sys.argv[2]))
except KeyboardInterrupt:
    print(json.dumps("propagated"), flush=True)
else:
    print(json.dumps([finished.returncode, finished.output, finished.interrupted]), flush=True)
"""


def start_driver(script: Path, grace: float = 5.0) -> subprocess.Popen[str]:
    """A Python process running `run_child(script)`: where the signals go."""
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(script), str(grace)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_normal_end_kills_what_the_tool_left_and_reaps_the_tool(stand_in):
    script = stand_in.script(sample=False)  # ends at once, its run left behind
    started = time.monotonic()

    finished = run_child([str(script)], stand_in.folder)

    assert time.monotonic() - started < 10  # not the 60 s of the run left behind
    assert finished == Finished(0, "py-spy> Sampling process 100 times a second.\n")
    assert stand_in.reaped(stand_in.pid("py-spy"))
    assert stand_in.gone(stand_in.pid("run"))


def test_an_error_while_waiting_kills_and_reaps_the_group(stand_in, monkeypatch):
    script = stand_in.script()

    def broken(process):
        stand_in.pid("run")
        raise RuntimeError("the harness broke")

    monkeypatch.setattr(child, "_communicate", broken)

    with pytest.raises(RuntimeError, match="the harness broke"):
        run_child([str(script)], stand_in.folder)

    assert stand_in.reaped(stand_in.pid("py-spy"))
    assert stand_in.gone(stand_in.pid("run"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_tool_keeps_its_output_and_reaps_everything(stand_in, signum):
    driver = start_driver(stand_in.script())
    tool, run = stand_in.pid("py-spy"), stand_in.pid("run")

    driver.send_signal(signum)
    out, err = driver.communicate(timeout=30)

    returncode, output, interrupted = json.loads(out)
    assert (returncode, interrupted) == (0, True), err
    assert output.endswith(f"{STOPPED}\n")  # the tool got SIGINT and had its say
    assert stand_in.gone(tool) and stand_in.gone(run)
    assert driver.returncode == 0


def test_a_tool_that_does_not_stop_is_killed_after_the_grace_time(stand_in):
    driver = start_driver(stand_in.script(on_sigint=":"), grace=0.5)
    tool, run = stand_in.pid("py-spy"), stand_in.pid("run")

    driver.send_signal(signal.SIGINT)
    out, err = driver.communicate(timeout=30)

    returncode, _, interrupted = json.loads(out)
    assert (returncode, interrupted) == (-signal.SIGKILL, True), err
    assert stand_in.gone(tool) and stand_in.gone(run)


def test_a_second_ctrl_c_kills_at_once_and_propagates(stand_in):
    driver = start_driver(stand_in.script(on_sigint=":"), grace=60)
    tool, run = stand_in.pid("py-spy"), stand_in.pid("run")

    driver.send_signal(signal.SIGINT)
    time.sleep(0.5)
    driver.send_signal(signal.SIGINT)
    out, err = driver.communicate(timeout=30)

    assert json.loads(out) == "propagated", err
    assert stand_in.gone(tool) and stand_in.gone(run)


def test_sigterm_keeps_its_meaning_once_the_child_has_ended(tmp_path):
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho ok\n", encoding="utf-8")
    script.chmod(0o755)
    before = signal.getsignal(signal.SIGTERM)

    assert run_child([str(script)], tmp_path) == Finished(0, "ok\n")
    assert signal.getsignal(signal.SIGTERM) is before
