"""Running a tool (py-spy, memray) as a child process: its output kept, Ctrl-C survived.

The tool runs in a process group of its own, with what it starts (py-spy's `bench run`),
so that the whole group can be stopped and nothing is left running or unreaped however
`bench profile` ends: normally, on an error, on Ctrl-C (SIGINT) or on SIGTERM.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

TAIL_LINES = 15

STOP_GRACE_S = 10.0
"""How long a stopped tool may take to write what it has (py-spy its samples) before it and
its group are killed."""

_POLL_S = 0.5
"""How often a wait looks whether the tool ended while something it started lingers."""


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child process ended: its exit status, its stdout and stderr together."""

    returncode: int
    output: str
    interrupted: bool = False


def run_child(command: list[str], cwd: Path, grace: float = STOP_GRACE_S) -> Finished:
    """Run `command` to its end, or stop it on Ctrl-C or SIGTERM; its group is reaped either way.

    Ctrl-C (SIGINT) or SIGTERM to this process reaches the child's group as SIGINT, as a
    terminal's Ctrl-C would: py-spy writes its samples so far and ends the run. A child still
    there `grace` seconds later is killed. That returns `interrupted=True`; a second Ctrl-C
    (or SIGTERM) in the grace time kills the group at once and propagates.
    """
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,  # not the terminal's group: a Ctrl-C reaches it through us, once
    )
    try:
        with _sigterm_as_interrupt():
            try:
                output = _communicate(process)
            except KeyboardInterrupt:
                _signal_group(process.pid, signal.SIGINT)
                output = _communicate(process, within=grace)
                return Finished(process.returncode, output, interrupted=True)
            return Finished(process.returncode, output)
    finally:
        _reap(process)


def tail(output: str, lines: int = TAIL_LINES) -> str:
    """The last `lines` non-blank lines of a child's output, or a note that there was none."""
    kept = [line.rstrip() for line in output.splitlines() if line.strip()]
    return "\n".join(kept[-lines:]) or "(no output)"


def _communicate(process: subprocess.Popen[str], within: float = math.inf) -> str:
    """All of the child's output once it and everything holding its output have ended.

    py-spy kills its run when it ends; should the run outlive it (py-spy killed outright),
    the run is killed here rather than waited for. So is the whole group once `within`
    seconds have passed.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            return process.communicate(timeout=min(_POLL_S, within))[0]
        except subprocess.TimeoutExpired:  # retrying loses no output
            if process.poll() is not None or time.monotonic() > deadline:
                _signal_group(process.pid, signal.SIGKILL)


def _reap(process: subprocess.Popen[str]) -> None:
    """Kill whatever is left of the child's group and wait for the child: no zombie."""
    _signal_group(process.pid, signal.SIGKILL)
    if process.stdout is not None:
        process.stdout.close()
    process.wait()


def _signal_group(group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group has ended
        os.killpg(group, signum)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a child runs, SIGTERM stops it as Ctrl-C does (the default would orphan it)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; SIGTERM keeps its meaning there
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
