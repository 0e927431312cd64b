"""The one interface every probe shares, and a set that runs probes without letting them fail a run.

A probe measures one thing about the process or its event loop and knows nothing of the
workload: the runner starts it, marks checkpoints ("after_setup", ...), stops it and asks
for its result. All timing reads the running loop's clock (`loop.time()`), so the virtual
clock changes every probe at once.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

_log = logging.getLogger("bench.probes")


@dataclass(slots=True)
class ProbeResult:
    """What a probe measured: flat JSON-ready metrics and per-second (or per-sample) series."""

    metrics: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)


class Probe(ABC):
    """start() inside the running loop, checkpoint(label) at phase changes, stop(), result()."""

    name: str = "probe"
    timing: bool = False
    """True for probes whose numbers only mean something on the real clock (lag, frames)."""

    def start(self) -> None:  # noqa: B027 - a no-op default is the point
        """Begin measuring; called from inside the running event loop."""

    def checkpoint(self, label: str) -> None:  # noqa: B027
        """Record the state at a named moment of the run (e.g. "baseline", "after_setup")."""

    async def stop(self) -> None:  # noqa: B027
        """Stop measuring and release tasks/threads; must be safe to call once after start."""

    @abstractmethod
    def result(self) -> ProbeResult:
        """Return what was measured so far (also after an interrupted run)."""


class ProbeSet:
    """Drives several probes together; a probe that raises is logged, reported and switched off."""

    def __init__(self, probes: list[Probe]) -> None:
        self._probes = list(probes)
        self.errors: dict[str, str] = {}

    @property
    def active(self) -> list[Probe]:
        """The probes that have not failed."""
        return [p for p in self._probes if p.name not in self.errors]

    def start(self) -> None:
        """Start every probe."""
        for probe in self.active:
            self._guard(probe, "start", probe.start)

    def checkpoint(self, label: str) -> None:
        """Pass a checkpoint to every probe."""
        for probe in self.active:
            self._guard(probe, "checkpoint", probe.checkpoint, label)

    async def stop(self) -> None:
        """Stop every probe (each one even if another fails)."""
        for probe in self.active:
            try:
                await probe.stop()
            except Exception as error:
                self._fail(probe, "stop", error)

    def results(self) -> dict[str, ProbeResult]:
        """Each working probe's result by name; failed probes are left out (see `errors`)."""
        results = {}
        for probe in self.active:
            result = self._guard(probe, "result", probe.result)
            if result is not None:
                results[probe.name] = result
        return results

    def _guard(self, probe: Probe, phase: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as error:
            self._fail(probe, phase, error)
            return None

    def _fail(self, probe: Probe, phase: str, error: Exception) -> None:
        _log.exception("probe %r failed in %s(); switched off for this run", probe.name, phase)
        self.errors[probe.name] = f"{phase}: {type(error).__name__}: {error}"


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel a probe's task and wait; re-raise what killed it, if anything but the cancel."""
    task.cancel()
    await asyncio.wait([task])
    error = None if task.cancelled() else task.exception()
    if error is not None:
        raise error
