"""Will a run fit in memory? Refused before any work, from each mode's measured bytes per agent.

Without this check a run too big for the machine fails late and loudly: numpy refuses a
grid of 10**15 x 10**15, or set-up dies in a cascade of MemoryErrors after minutes.
"""

from __future__ import annotations

import math

import psutil

from bench.errors import BenchError
from bench.workload.modes import get_mode

BASE_BYTES = 96 * 2**20
"""Memory a run needs whatever its size. A fresh `bench run` process had 58.7-59.0 MiB
resident before its first agent in the runs that measured `Mode.bytes_per_agent`; the
rest is room for the result document and the objects probe's census at the end."""

_SMALLEST_GRID = 9  # 3x3 agents
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def memory_needed(mode: str, agents: int) -> int:
    """Estimated peak bytes of a run of `agents` in `mode`: a fixed base plus a share per agent."""
    return BASE_BYTES + get_mode(mode).bytes_per_agent * agents


def available_memory() -> int:
    """Bytes the system can give a new process now without swapping (psutil's `available`)."""
    return int(psutil.virtual_memory().available)


def check_memory(mode: str, agents: int, available: int | None = None) -> None:
    """Refuse (BenchError) a run that would not fit in `available` bytes (default: now free)."""
    available = available_memory() if available is None else available
    need = memory_needed(mode, agents)
    if need <= available:
        return
    per_agent = get_mode(mode).bytes_per_agent
    raise BenchError(
        f"--agents {agents} in mode {mode} needs {_about(need)} ({_size(per_agent)} per agent, "
        f"measured) but {_size(available)} is available; {_advice(available, per_agent)}"
    )


def _advice(available: int, per_agent: int) -> str:
    side = math.isqrt(max(0, available - BASE_BYTES) // per_agent)
    if side * side < _SMALLEST_GRID:
        return "free some memory first"
    return f"use at most {side * side:,} ({side}x{side})"


def _about(size: int) -> str:
    if size >= 1024 ** len(_UNITS):  # beyond what a float (and a reader) should hold
        return f"more than 1,024 {_UNITS[-1]}"
    return f"about {_size(size)}"


def _size(size: int) -> str:
    power = 0
    while size >= 1024 ** (power + 1) and power < len(_UNITS) - 1:
        power += 1
    value = size / 1024**power
    return f"{value:.1f} {_UNITS[power]}" if value < 10 else f"{value:,.0f} {_UNITS[power]}"
