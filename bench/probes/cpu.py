"""Process CPU time against loop-clock time between start() and stop().

`cpu_s` comes from `time.process_time()` (CLOCK_PROCESS_CPUTIME_ID: nanoseconds), not from
the kernel's per-process tick counts that psutil reads: those step by 10 ms here
(SC_CLK_TCK = 100), about 2.6% of a 3-second run at 900 agents. The user/system split is
only available in ticks and is kept for information.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import psutil

from bench.probes.base import Probe, ProbeResult

_KEYS = ("cpu_user_s", "cpu_system_s", "cpu_s", "wall_s", "cpu_utilisation")


@dataclass(frozen=True, slots=True)
class _Sample:
    """Loop time and the process's CPU seconds at one moment."""

    wall: float
    cpu: float
    user: float
    system: float


class CpuProbe(Probe):
    """CPU seconds of the whole process (every thread) over the measured span.

    Elapsed time is the loop's clock, so under a virtual clock `wall_s` is virtual and
    `cpu_utilisation` is CPU seconds per virtual second.
    """

    name = "cpu"
    timing = False

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._begin: _Sample | None = None
        self._end: _Sample | None = None

    def start(self) -> None:
        """Note the loop time and CPU times now."""
        self._loop = asyncio.get_running_loop()
        self._begin = self._sample(self._loop)
        self._end = None

    async def stop(self) -> None:
        """Note the loop time and CPU times at the end of the span."""
        if self._loop is not None:
            self._end = self._sample(self._loop)

    def result(self) -> ProbeResult:
        """CPU and wall seconds of the span (up to now if not stopped); all None before start."""
        if self._loop is None or self._begin is None:
            return ProbeResult(metrics=dict.fromkeys(_KEYS))
        end = self._end or self._sample(self._loop)
        user, system = end.user - self._begin.user, end.system - self._begin.system
        wall = end.wall - self._begin.wall
        cpu = end.cpu - self._begin.cpu
        metrics = {
            "cpu_user_s": user,
            "cpu_system_s": system,
            "cpu_s": cpu,
            "wall_s": wall,
            "cpu_utilisation": cpu / wall if wall > 0 else None,
        }
        return ProbeResult(metrics=metrics)

    def _sample(self, loop: asyncio.AbstractEventLoop) -> _Sample:
        times = self._process.cpu_times()
        cpu = time.process_time()
        return _Sample(wall=loop.time(), cpu=cpu, user=times.user, system=times.system)
