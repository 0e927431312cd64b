"""py-spy, the sampling profiler: found, checked and run around a `bench run` child process.

py-spy writes one format per recording. The speedscope file keeps every sample (per thread,
in time order), so the collapsed stacks and the tables are derived from it; the SVG flame
graph is drawn by py-spy itself in a second recording of the same configuration.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.profiling.child import Finished, run_child, tail

PTRACE_ADVICE = (
    "grant it by running as root, by giving the CAP_SYS_PTRACE capability "
    "(docker: --cap-add SYS_PTRACE), or with `sysctl kernel.yama.ptrace_scope=0`"
)
_PERMISSION_WORDS = ("permission denied", "operation not permitted", "sys_ptrace")
_CAP_SYS_PTRACE = 19  # bit in /proc/<pid>/status CapEff


MAX_RATE = 1000
"""The highest --rate taken, samples per second. py-spy sets no limit of its own (`--rate`
takes any whole number), but it cannot sample faster than a sample takes, and by default it
holds the process still for each one. At 100 Hz a 2,500-agent run made 4 to 8 % fewer
flashes (docs/profiling.md, "Reading them"): about half a millisecond per sample. So 1,000 Hz
holds the run still about half the time, and a little above it py-spy falls behind for good
("behind in sampling ... Try reducing the sampling rate") while the run starves. A sample
a millisecond is also the tick py-spy's timer is written for, and its former default."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """How py-spy samples: rate (Hz); idle threads too; native (C) frames too; GIL holder only."""

    rate: int = 100
    idle: bool = False
    native: bool = False
    gil: bool = False


def find_py_spy(
    python: Path | None = None, which: Callable[[str], str | None] = shutil.which
) -> Path:
    """py-spy next to the interpreter (a virtualenv's bin/) or on PATH; BenchError if neither."""
    python = python or Path(sys.executable)
    beside = python.parent / "py-spy"
    if beside.is_file():
        return beside
    found = which("py-spy")
    if found:
        return Path(found)
    raise BenchError(
        f"py-spy is not installed: it is neither next to {python} nor on PATH; "
        "install the project's dependencies (make setup) or `pip install 'py-spy>=0.3.14,<0.5'`"
    )


def ptrace_refusal(scope: int | None, can_ptrace: bool) -> str | None:
    """Why no process may be sampled at all (Yama ptrace_scope 2 or 3), or None."""
    if scope == 3:
        return (
            "py-spy cannot sample: kernel.yama.ptrace_scope is 3 (ptrace disabled until the "
            "next boot); boot with kernel.yama.ptrace_scope=0 or 1"
        )
    if scope == 2 and not can_ptrace:
        return (
            "py-spy cannot sample: kernel.yama.ptrace_scope is 2 (only CAP_SYS_PTRACE may "
            f"ptrace); {PTRACE_ADVICE}"
        )
    return None


def check_ptrace(proc: Path = Path("/proc")) -> None:
    """Refuse before any work when this machine forbids ptrace outright."""
    refusal = ptrace_refusal(_ptrace_scope(proc), _has_cap_sys_ptrace(proc))
    if refusal:
        raise BenchError(refusal)


def record_command(
    py_spy: Path, fmt: str, output: Path, sampling: Sampling, program: list[str]
) -> list[str]:
    """The `py-spy record` command line that runs `program` and writes `output` in `fmt`."""
    command = [str(py_spy), "record", "--format", fmt, "--output", str(output)]
    command += ["--rate", str(sampling.rate)]
    command += (
        ["--idle"] * sampling.idle + ["--native"] * sampling.native + ["--gil"] * sampling.gil
    )
    return [*command, "--", *program]


def record(command: list[str], cwd: Path) -> Finished:
    """Run one py-spy recording; BenchError when py-spy itself failed (ptrace, bad binary)."""
    finished = run_child(command, cwd)
    if finished.returncode != 0 and not finished.interrupted:
        raise BenchError(pyspy_failure(finished.returncode, finished.output))
    return finished


def pyspy_failure(returncode: int, output: str) -> str:
    """What to tell the user when py-spy exited with an error."""
    if is_permission_error(output):
        return f"py-spy was not permitted to trace the run (ptrace refused); {PTRACE_ADVICE}"
    return f"py-spy failed (exit status {returncode}):\n{tail(output)}"


def is_permission_error(output: str) -> bool:
    """Whether py-spy's output says it could not attach for lack of permission."""
    lowered = output.lower()
    return any(word in lowered for word in _PERMISSION_WORDS)


def _ptrace_scope(proc: Path) -> int | None:
    try:
        return int((proc / "sys/kernel/yama/ptrace_scope").read_text().strip())
    except (OSError, ValueError):
        return None  # no Yama: ordinary ptrace rules


def _has_cap_sys_ptrace(proc: Path) -> bool:
    try:
        status = (proc / "self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> _CAP_SYS_PTRACE & 1)
    return False
