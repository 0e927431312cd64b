"""Process memory: RSS and USS at checkpoints, RSS sampled over the run, and a leak slope.

Optionally also Python's own allocations through `tracemalloc`, which slows every
allocation down a lot: use it to explain memory, not in a run whose speed matters.
"""

from __future__ import annotations

import asyncio
import itertools
import tracemalloc
from dataclasses import dataclass
from typing import Any

import psutil

from bench.probes.base import ProbeResult, cancel_and_wait
from bench.probes.per_unit import PerUnitProbe
from bench.stats import leak_slope

_LABELS = ("baseline", "after_setup", "end")


@dataclass(frozen=True, slots=True)
class _Reading:
    """Memory at one checkpoint; `python` is tracemalloc's (current, peak) when tracing."""

    rss: int
    uss: int | None
    python: tuple[int, int] | None


class MemoryProbe(PerUnitProbe):
    """RSS/USS per checkpoint and per unit, RSS every `sample_interval` loop seconds, leak slope."""

    name = "memory"
    timing = False

    def __init__(
        self,
        units: int,
        unit_name: str = "agent",
        sample_interval: float = 1.0,
        trace_python: bool = False,
    ) -> None:
        if sample_interval <= 0:
            raise ValueError(f"sample_interval must be positive, got {sample_interval}")
        self.units = units
        self._unit_name = unit_name
        self._interval = sample_interval
        self._trace_python = trace_python
        self._process = psutil.Process()
        self._readings: dict[str, _Reading] = {}
        self._t: list[float] = []
        self._rss: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._started_tracing = False

    def start(self) -> None:
        """Start the RSS sampling task on the running loop."""
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._sample(loop, loop.time()), name="bench.probes.memory")

    async def stop(self) -> None:
        """Cancel the sampling task and wait for it; re-raise what broke it, if anything did."""
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait(task)

    def checkpoint(self, label: str) -> None:
        """Read RSS, USS and maybe Python's traced memory (traced from "baseline" to "end")."""
        if label == "baseline" and self._trace_python:
            self._start_tracing()
        self._readings[label] = self._read()
        if label == "end":
            self._stop_tracing()

    def result(self) -> ProbeResult:
        """Checkpoint, per-unit, peak and slope metrics; missing checkpoints give None."""
        metrics = self._checkpoint_metrics("rss") | self._checkpoint_metrics("uss")
        metrics[f"rss_per_{self._unit_name}_bytes"] = self._kind_per_unit("rss")
        metrics[f"uss_per_{self._unit_name}_bytes"] = self._kind_per_unit("uss")
        rss_readings = [r.rss for r in self._readings.values()] + self._rss
        metrics["rss_peak_bytes"] = max(rss_readings, default=None)
        metrics["leak_slope_bytes_per_s"] = leak_slope(self._t, self._rss)
        if self._trace_python:
            metrics |= self._python_metrics()
        series = {"rss": {"t_s": list(self._t), "rss_bytes": list(self._rss)}}
        return ProbeResult(metrics=metrics, series=series)

    async def _sample(self, loop: asyncio.AbstractEventLoop, t0: float) -> None:
        # Sleep to absolute deadlines so the sampling cost does not drift the grid.
        for k in itertools.count(1):
            self._t.append(loop.time() - t0)
            self._rss.append(self._process.memory_info().rss)
            await asyncio.sleep(t0 + k * self._interval - loop.time())

    def _read(self) -> _Reading:
        python = tracemalloc.get_traced_memory() if self._tracing() else None
        return _Reading(rss=self._process.memory_info().rss, uss=self._uss(), python=python)

    def _uss(self) -> int | None:
        try:
            info = self._process.memory_full_info()
        except (psutil.AccessDenied, NotImplementedError):
            return None
        uss = getattr(info, "uss", None)  # not every platform reports it
        return None if uss is None else int(uss)

    def _tracing(self) -> bool:
        return self._trace_python and tracemalloc.is_tracing()

    def _start_tracing(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True

    def _stop_tracing(self) -> None:
        # Leave alone a trace someone else started: it is not ours to end.
        if self._started_tracing:
            tracemalloc.stop()
            self._started_tracing = False

    def _value(self, label: str, kind: str) -> int | None:
        reading = self._readings.get(label)
        return None if reading is None else getattr(reading, kind)

    def _checkpoint_metrics(self, kind: str) -> dict[str, Any]:
        return {f"{kind}_{label}_bytes": self._value(label, kind) for label in _LABELS}

    def _kind_per_unit(self, kind: str) -> float | None:
        return self._per_unit(self._value("baseline", kind), self._value("after_setup", kind))

    def _python_current(self, label: str) -> int | None:
        reading = self._readings.get(label)
        return None if reading is None or reading.python is None else reading.python[0]

    def _python_metrics(self) -> dict[str, float | None]:
        peaks = [r.python[1] for r in self._readings.values() if r.python is not None]
        return {
            "python_current_after_setup_bytes": self._python_current("after_setup"),
            "python_current_end_bytes": self._python_current("end"),
            "python_peak_bytes": max(peaks, default=None),
            f"python_per_{self._unit_name}_bytes": self._python_per_unit(),
        }

    def _python_per_unit(self) -> float | None:
        """Python bytes allocated during setup and still alive after it, per unit."""
        return self._per_unit(self._python_current("baseline"), self._python_current("after_setup"))
