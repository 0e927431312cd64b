"""Running the cost child: under callgrind (instructions per segment) or natively with its
bytecode counter (Python functions named).

`setarch <arch> -R` turns address-space randomisation off and PYTHONHASHSEED=0 fixes the
hash of str, so the same arguments execute the same instructions on every run.
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
from typing import Any

from bench.cost.callgrind import parse_callgrind
from bench.cost.segments import MARKER, Segment, pair_up, setup_agents
from bench.errors import BenchError

INSTALL_HINT = "sudo apt-get install valgrind"
HARNESS = Path(__file__).resolve().parents[2]
"""The folder holding this `bench` and its `cascade`: where a child runs by default."""


@dataclass(frozen=True)
class ChildRun:
    """What the child runs: mode, agents, warm-up and measured seconds of the virtual clock,
    seed, slowdown, and the smaller swarm of the per-agent set-up difference."""

    mode: str
    agents: int
    duration: float
    warmup: float
    seed: int = 1
    slowdown_iterations: int = 0
    layout: int = 0
    """The memory layout (bench/cost/child.py): small strings allocated before any import."""

    def arguments(self) -> list[str]:
        """The child's command-line arguments."""
        words = [
            "--mode",
            self.mode,
            "--agents",
            str(self.agents),
            "--setup-agents",
            str(setup_agents(self.agents)),
            "--warmup",
            f"{self.warmup:g}",
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
    """The full command line: setarch (no ASLR), callgrind dumping a profile before each
    call of the child's marker, python -m bench.cost.child. `setarch=None` leaves ASLR on
    (where setarch is missing)."""
    prefix = [] if setarch is None else [setarch, arch or platform.machine(), "-R"]
    return [
        *prefix,
        valgrind,
        "--tool=callgrind",
        f"--callgrind-out-file={out_file}",
        f"--dump-before={MARKER}",
        "--dump-line=no",
        "--dump-instr=no",
        "--separate-recs=1",
        python,
        "-X",
        "frozen_modules=on",
        "-m",
        "bench.cost.child",
        *child.arguments(),
    ]


# BLAS libraries start threads that spin while idle: a varying few million instructions per
# run (measured when the workload package imported numpy: the whole of a 0.05-0.4%
# difference between two identical runs). The child imports none, but an engine might.
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child_environment(layout: int = 0) -> dict[str, str]:
    """This environment, with PYTHONHASHSEED=0, BLAS on one thread, the memory `layout`, and
    no PYTHON* variable that changes what Python runs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(SINGLE_THREADED)
    env["PYTHONHASHSEED"] = "0"
    env["BENCH_COST_LAYOUT"] = str(layout)
    return env


def precompile(folder: Path, python: str = sys.executable) -> None:
    """Write the .pyc files of `folder`'s bench/ and cascade/ natively (a fraction of a
    second when they exist), before every child: a module first imported in the measured
    segment must not be compiled in one run and read from its .pyc in the next."""
    subprocess.run(
        [python, "-m", "compileall", "-q", "bench", "cascade"],
        cwd=folder,
        capture_output=True,
        check=False,
    )


@dataclass(frozen=True)
class Measured:
    """One child run under callgrind: its segments and the command."""

    segments: list[Segment]
    command: list[str]


def measure(child: ChildRun, valgrind: str | None = None, cwd: Path | None = None) -> Measured:
    """Run `child` under callgrind from `cwd` (whose bench/ and cascade/ it imports; this
    checkout's by default) and pair the segments it reports with the profiles callgrind
    wrote for them."""
    valgrind = valgrind or find_valgrind()
    cwd = cwd or HARNESS
    precompile(cwd)
    setarch = shutil.which("setarch")
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as folder:
        out_file = Path(folder) / "callgrind.out"
        command = build_command(child, out_file, valgrind, setarch=setarch and "setarch")
        done = _run(command, cwd, child.layout)
        parts = sorted(Path(folder).glob("callgrind.out.*"), key=lambda path: int(path.suffix[1:]))
        profiles = []
        for part in parts:
            with part.open(encoding="utf-8", errors="replace") as handle:
                profiles.append(parse_callgrind(handle))
    report = _report(done.stdout, command)
    return Measured(pair_up(report["segments"], profiles), command)


def python_profile(child: ChildRun, cwd: Path | None = None) -> dict[str, float]:
    """Run `child` natively with its bytecode counter: each Python function's bytecodes per
    generation of the measured segment."""
    cwd = cwd or HARNESS
    precompile(cwd)
    command = [sys.executable, "-m", "bench.cost.child", *child.arguments(), "--opcodes"]
    report = _report(_run(command, cwd, child.layout).stdout, command)
    generations = report["segments"][-1]["generations"]
    if generations <= 0:
        raise BenchError("the measured segment ran no generations: lengthen --duration")
    return {name: count / generations for name, count in report["opcodes"].items()}


def _run(command: list[str], cwd: Path | None, layout: int) -> subprocess.CompletedProcess[str]:
    environment = child_environment(layout)
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=cwd, check=False
    )
    if done.returncode != 0:
        own = [line for line in done.stderr.splitlines() if not line.startswith("==")]
        tail = " | ".join(own[-3:])  # the child's own last words, not valgrind's summary
        raise BenchError(
            f"the measured run failed (exit {done.returncode}): {' '.join(command)}: {tail}"
        )
    return done


def _report(stdout: str, command: list[str]) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"the measured run printed no report: {' '.join(command)}")
    report = json.loads(lines[-1])
    if not isinstance(report, dict) or not isinstance(report.get("segments"), list):
        raise BenchError(f"the measured run printed {lines[-1][:200]!r}, not its segments")
    return report
