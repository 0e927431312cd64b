"""Is the machine quiet enough to benchmark? Gather its state, then decide (pure) what to warn.

The suite warns and goes on: on a shared 2-core machine a perfect state is rare, and the
interleaved order already spreads drift over the modes. The state goes into the metadata.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

_GOVERNOR = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
BUSY_PERCENT = 25.0
"""Other load above this share of all CPUs before the suite starts gets a warning."""


@dataclass(frozen=True, slots=True)
class MachineState:
    """What was seen just before the suite started."""

    cpu_busy_percent: float
    load_1min: float | None
    cores: int
    governor: str | None
    pyperf_advice: str


def read_machine_state(sample_seconds: float = 1.0) -> MachineState:
    """Sample CPU use for `sample_seconds`, read the governor and pyperf's advice."""
    busy = psutil.cpu_percent(interval=sample_seconds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    governor = _GOVERNOR.read_text().strip() if _GOVERNOR.exists() else None
    return MachineState(busy, load, psutil.cpu_count() or 1, governor, _pyperf_advice())


def noise_warnings(state: MachineState) -> list[str]:
    """Human-readable reasons the timings may be noisy (empty when the machine looks quiet)."""
    warnings = []
    if state.cpu_busy_percent > BUSY_PERCENT:
        warnings.append(
            f"other load: {state.cpu_busy_percent:.0f}% of the CPUs were busy before the "
            "suite started; timings will be noisy (stop other work or re-run later)"
        )
    if state.load_1min is not None and state.load_1min > state.cores:
        warnings.append(
            f"load average {state.load_1min:.1f} exceeds the {state.cores} cores: "
            "runs will compete for the CPU"
        )
    if state.governor not in (None, "performance"):
        warnings.append(
            f"CPU frequency scaling governor is {state.governor!r}, not 'performance': "
            "`python -m pyperf system tune` (as root) fixes it for the session"
        )
    return warnings


def _pyperf_advice() -> str:
    """The Advices and Warnings of `python -m pyperf system show`, one line each, ';'-joined."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pyperf", "system", "show"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"pyperf system show failed: {error}"
    return "; ".join(_advice_lines(done.stdout))


def _advice_lines(text: str) -> list[str]:
    lines, keep = [], False
    for line in text.splitlines():
        if line in ("Advices", "Warnings"):
            keep = True
        elif line.startswith(("====", "Run ")) or not line.strip():
            continue
        elif keep and ":" in line:
            lines.append(line.strip())
    return lines
