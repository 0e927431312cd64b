"""Running a tool (py-spy, memray) as a child process: its output kept, Ctrl-C survived."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 15


@dataclass(frozen=True, slots=True)
class Finished:
    """How a child process ended: its exit status, its stdout and stderr together."""

    returncode: int
    output: str
    interrupted: bool = False


def run_child(command: list[str], cwd: Path) -> Finished:
    """Run `command` to its end; Ctrl-C (which the child also gets) waits for it to finish."""
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            output, _ = process.communicate()
        except KeyboardInterrupt:  # the child got SIGINT too: let it write what it has
            output, _ = process.communicate()
            return Finished(process.returncode, output, interrupted=True)
    return Finished(process.returncode, output)


def tail(output: str, lines: int = TAIL_LINES) -> str:
    """The last `lines` non-blank lines of a child's output, or a note that there was none."""
    kept = [line.rstrip() for line in output.splitlines() if line.strip()]
    return "\n".join(kept[-lines:]) or "(no output)"
