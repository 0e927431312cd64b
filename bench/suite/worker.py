"""One configuration measured in a fresh worker process (`python -m bench run`).

A fresh process per run keeps runs independent: no warm caches, no heap or gc state left
over from the previous configuration, and a crash costs one run, not the suite.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.schema import load_result
from bench.suite.layout import Layout, tag_of

# The folder holding this `bench` package: the repo, or site-packages in an asv environment.
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What one worker measures."""

    mode: str
    agents: int
    duration: float
    period: float = 5.0
    nudge: float = 0.2
    seed: int = 1
    clock: str = "real"
    loop: str = "asyncio"
    trace_python: bool = False
    inject_slowdown: float | None = None
    """The gate's slowdown for this run's engine (`bench run --inject-slowdown`), or none."""
    transport: str = "local"
    """What carries the messages: "local" (in memory) or "mqtt" (a broker of its own)."""
    workers: int | None = None
    """Worker processes (`--workers N`, through the coordinator); None = one process."""
    gc: str = "default"
    """The garbage collector while the agents run (`bench run --gc`)."""

    @property
    def layout(self) -> Layout:
        """Its transport and worker processes."""
        return Layout(self.transport, self.workers)

    @property
    def label(self) -> str:
        """A short name: "shared-2500" for one local process on the real clock, as ever;
        else with the layout and clock, "shared-10000-mqtt-2w", "raw-2500-virtual"."""
        tag = tag_of(self.layout, self.clock)
        return f"{self.mode}-{self.agents}" + (f"-{tag}" if tag else "")

    def argv(self, out: Path) -> list[str]:
        """The `bench run` command line for this configuration."""
        return [
            *("run", "--mode", self.mode, "--agents", str(self.agents)),
            *("--duration", repr(self.duration), "--period", repr(self.period)),
            *("--nudge", repr(self.nudge), "--seed", str(self.seed)),
            *("--clock", self.clock, "--loop", self.loop, "--quiet", "--out", str(out)),
            *(["--tracemalloc"] if self.trace_python else []),
            *self._slowdown(),
            *self.layout.argv(),
            *(["--gc", self.gc] if self.gc != "default" else []),
        ]

    def _slowdown(self) -> list[str]:
        # Only when asked: the gate's base may run an engine without instruments.
        if self.inject_slowdown is None:
            return []
        return ["--inject-slowdown", repr(self.inject_slowdown)]


class WorkerFailed(Exception):
    """A worker process exited with an error; the message carries its stderr."""


STOP_GRACE_S = 3.0
"""How long a stopped worker may take to write its partial result before it is killed."""


def run_worker(
    config: WorkerConfig, out: Path, timeout: float | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its result document.

    The worker imports `bench` and `cascade` from `cwd` (default: this checkout); the gate
    points it at a folder pairing the head's harness with the engine of either side. Whatever
    ends the wait (a timeout, Ctrl-C, the suite's SIGTERM, any exception), the worker is
    stopped and reaped before this returns: it never outlives its caller.
    """
    command = [sys.executable, "-m", "bench", *config.argv(out)]
    where = _ROOT if cwd is None else cwd
    pipe = subprocess.PIPE
    with subprocess.Popen(  # errors="replace": stray bytes in its stderr are no traceback
        command, cwd=where, stdout=pipe, stderr=pipe, text=True, errors="replace"
    ) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_and_reap(process)
            raise WorkerFailed(f"{config.label}: no result after {timeout:g} s") from None
        except BaseException:
            stop_and_reap(process)
            raise
    if process.returncode != 0:
        ended = describe_exit(process.returncode)
        raise WorkerFailed(f"{config.label}: worker {ended}:\n{stderr.strip() or '(no output)'}")
    return load_result(out)


def stop_and_reap(process: subprocess.Popen[Any]) -> None:
    """SIGTERM (the worker keeps what it measured), SIGKILL after STOP_GRACE_S; then reap it.

    The kill and the reaping sit in `finally`: a second Ctrl-C during the grace period
    shortens the wait but still leaves no orphan behind.
    """
    try:
        if process.poll() is None:
            process.terminate()
            process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def describe_exit(returncode: int) -> str:
    """How a process ended, in words: "exited with 2", "killed by SIGKILL"."""
    if returncode >= 0:
        return f"exited with {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"
