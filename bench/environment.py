"""Where and how a result was measured: commit, interpreter, machine, loop, clock."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

_REPO = Path(__file__).resolve().parent.parent


def collect_meta(*, loop: str, clock: str, argv: list[str] | None = None) -> dict[str, Any]:
    """The `meta` block of a result document."""
    commit, dirty = _git_state()
    return {
        "commit": commit,
        "dirty": dirty,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "loop": loop,
        "clock": clock,
        "hash_seed": os.environ.get("PYTHONHASHSEED", "random"),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([Path(sys.executable).name, "-m", "bench", *(argv or sys.argv[1:])]),
    }


def _git_state() -> tuple[str | None, bool | None]:
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, dirty


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=_REPO, capture_output=True, text=True, check=True, timeout=10
    )
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
