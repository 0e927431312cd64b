"""Running the cost child under callgrind: the command line, the environment, the totals.

`setarch <arch> -R` turns address-space randomisation off and PYTHONHASHSEED=0 fixes the
hash of str, so the same arguments execute the same instructions (to ~0.05%) on every run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.cost.callgrind import Profile, parse_callgrind
from bench.cost.difference import Sample
from bench.errors import BenchError

INSTALL_HINT = "sudo apt-get install valgrind"


@dataclass(frozen=True)
class ChildRun:
    """What the child runs: mode, agents, seconds of the virtual clock, seed, slowdown."""

    mode: str
    agents: int
    duration: float
    seed: int = 1
    slowdown_iterations: int = 0

    def arguments(self) -> list[str]:
        """The child's command-line arguments."""
        words = [
            "--mode",
            self.mode,
            "--agents",
            str(self.agents),
            "--duration",
            f"{self.duration:g}",
            "--seed",
            str(self.seed),
        ]
        if self.slowdown_iterations:
            words += ["--slowdown-iterations", str(self.slowdown_iterations)]
        return words


def find_valgrind() -> str:
    """The valgrind executable, or a BenchError saying how to install it."""
    found = shutil.which("valgrind")
    if found is None:
        raise BenchError(f"valgrind is not installed: `{INSTALL_HINT}` (Debian/Ubuntu)")
    return found


def valgrind_version(valgrind: str) -> str:
    """`valgrind --version`: "valgrind-3.19.0"."""
    done = subprocess.run([valgrind, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def build_command(
    child: ChildRun,
    out_file: Path,
    valgrind: str = "valgrind",
    python: str = sys.executable,
    setarch: str | None = "setarch",
    arch: str | None = None,
) -> list[str]:
    """The full command line: setarch (no ASLR), callgrind, python -B -m bench.cost.child.

    `-B`: no .pyc is written, so the first run does not do work (compiling, writing) that
    later ones skip. `setarch=None` leaves ASLR on (where setarch is missing)."""
    prefix = [] if setarch is None else [setarch, arch or platform.machine(), "-R"]
    return [
        *prefix,
        valgrind,
        "--tool=callgrind",
        f"--callgrind-out-file={out_file}",
        "--dump-line=no",
        "--dump-instr=no",
        "--separate-recs=1",
        python,
        "-B",
        "-X",
        "frozen_modules=on",
        "-m",
        "bench.cost.child",
        *child.arguments(),
    ]


# numpy (imported by the convergence monitor's module) starts OpenBLAS's threads, which
# spin while idle: a varying few million instructions per run (measured: the whole of the
# 0.05-0.4% difference between two identical runs). One thread, none spinning.
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child_environment() -> dict[str, str]:
    """This environment, with PYTHONHASHSEED=0, BLAS on one thread, and no PYTHON* variable
    that changes what Python runs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(SINGLE_THREADED)
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass(frozen=True)
class Measured:
    """One child run under callgrind: its sample, its per-function profile, its command."""

    sample: Sample
    profile: Profile
    command: list[str]


def measure(child: ChildRun, valgrind: str | None = None) -> Measured:
    """Run `child` under callgrind and read its counts (stdout) and its profile."""
    valgrind = valgrind or find_valgrind()
    setarch = shutil.which("setarch")
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as folder:
        out_file = Path(folder) / "callgrind.out"
        command = build_command(child, out_file, valgrind, setarch=setarch and "setarch")
        done = subprocess.run(
            command, capture_output=True, text=True, env=child_environment(), check=False
        )
        if done.returncode != 0 or not out_file.exists():
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise BenchError(
                f"the measured run failed (exit {done.returncode}): {' '.join(command)}: {tail}"
            )
        with out_file.open(encoding="utf-8", errors="replace") as handle:
            profile = parse_callgrind(handle)
    counts = _counts(done.stdout, command)
    return Measured(Sample(profile.total, counts), profile, command)


def _counts(stdout: str, command: list[str]) -> dict[str, int]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"the measured run printed no counts: {' '.join(command)}")
    counts = json.loads(lines[-1])
    if not isinstance(counts, dict):
        raise BenchError(f"the measured run printed {lines[-1]!r}, not counts")
    return {str(key): int(value) for key, value in counts.items()}
