"""One configuration measured in a fresh worker process (`python -m bench run`).

A fresh process per run keeps runs independent: no warm caches, no heap or gc state left
over from the previous configuration, and a crash costs one run, not the suite.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.schema import load_result

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

    @property
    def label(self) -> str:
        """A short name, e.g. "shared-2500"."""
        return f"{self.mode}-{self.agents}"

    def argv(self, out: Path) -> list[str]:
        """The `bench run` command line for this configuration."""
        return [
            *("run", "--mode", self.mode, "--agents", str(self.agents)),
            *("--duration", repr(self.duration), "--period", repr(self.period)),
            *("--nudge", repr(self.nudge), "--seed", str(self.seed)),
            *("--clock", self.clock, "--loop", self.loop, "--quiet", "--out", str(out)),
            *(["--tracemalloc"] if self.trace_python else []),
        ]


class WorkerFailed(Exception):
    """A worker process exited with an error; the message carries its stderr."""


def run_worker(
    config: WorkerConfig, out: Path, timeout: float | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter and return its result document.

    The worker imports `bench` and `cascade` from `cwd` (default: this checkout); the gate
    points it at a folder pairing the head's harness with the engine of either side.
    """
    command = [sys.executable, "-m", "bench", *config.argv(out)]
    where = _ROOT if cwd is None else cwd
    try:
        done = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        raise WorkerFailed(f"{config.label}: no result after {expired.timeout:g} s") from None
    if done.returncode != 0:
        stderr = done.stderr.strip() or "(no output)"
        raise WorkerFailed(f"{config.label}: worker exited with {done.returncode}:\n{stderr}")
    return load_result(out)
