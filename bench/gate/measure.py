"""The gate's runs: each a fresh `bench run` worker, base and head interleaved.

First one virtual-clock run per side and mode (deterministic counts, allocations traced),
then `pairs` rounds of real-clock runs: in each round every mode runs once on each side,
back to back, the side that goes first alternating from pair to pair and the mode order
rotating from round to round, so drift of the machine falls evenly on both sides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.gate.checks import Series, Values
from bench.gate.settings import COUNT_METRICS, PER_AGENT_METRICS, TIMING_METRICS, GateSettings
from bench.metrics import BY_PATH
from bench.suite.worker import WorkerConfig, WorkerFailed, run_worker

BASE, HEAD = "base", "head"

_STARTUP_ESTIMATE_S = 1.5  # interpreter start, setup and checkpoints around each run


@dataclass(frozen=True, slots=True)
class Planned:
    """One run of the plan: which side, which configuration, and for which family."""

    side: str
    config: WorkerConfig
    family: str  # "deterministic" or "timing"
    index: int  # the pair index (0 for deterministic runs)

    @property
    def file_name(self) -> str:
        """E.g. "head-shared-timing-3.json"."""
        return f"{self.side}-{self.config.mode}-{self.family}-{self.index}.json"

    @property
    def weight(self) -> float:
        """Rough seconds, for the progress bar (a traced virtual run takes a few seconds)."""
        return (self.config.duration if self.family == "timing" else 2.5) + _STARTUP_ESTIMATE_S


@dataclass(slots=True)
class Measurements:
    """What the runs gave, as plain numbers for the checks, plus what went wrong."""

    deterministic: dict[str, Values] = field(default_factory=lambda: {BASE: {}, HEAD: {}})
    timing: dict[str, Series] = field(default_factory=lambda: {BASE: {}, HEAD: {}})
    runs: int = 0
    interrupted: bool = False


class SideFailed(Exception):
    """A worker of one side failed; `side` says which."""

    def __init__(self, side: str, message: str) -> None:
        super().__init__(message)
        self.side = side


def plan(
    settings: GateSettings,
    sides: tuple[str, ...] = (BASE, HEAD),
    *,
    deterministic: bool = True,
    head_slowdown: float | None = None,
) -> list[Planned]:
    """Every run of a gate, in the order they run; with `head_slowdown`, the head's runs
    slow their engines by that fraction (`bench run --inject-slowdown`)."""
    runs = [
        Planned(
            side, _slowed(_virtual_config(mode, settings), side, head_slowdown), "deterministic", 0
        )
        for mode in (settings.modes if deterministic else ())
        for side in sides
    ]
    modes = settings.modes
    for index in range(settings.pairs):
        shift = index % len(modes)
        order = sides if index % 2 == 0 else tuple(reversed(sides))
        for mode in modes[shift:] + modes[:shift]:
            config = WorkerConfig(mode, settings.agents, settings.duration)
            runs += [
                Planned(side, _slowed(config, side, head_slowdown), "timing", index)
                for side in order
            ]
    return runs


def measure(
    runs: list[Planned],
    folders: dict[str, Path],
    out_dir: Path,
    settings: GateSettings,
    on_done: Callable[[Planned], None] = lambda planned: None,
) -> Measurements:
    """Run `runs` from each side's folder; a Ctrl-C keeps what was measured so far.

    Raises SideFailed when a worker fails: the measurements are then not comparable.
    """
    found = Measurements()
    for side in folders:
        for mode in settings.modes:
            found.timing[side][mode] = {path: [None] * settings.pairs for path in TIMING_METRICS}
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        for planned in runs:
            document = _run(planned, folders[planned.side], out_dir)
            _record(found, planned, document)
            on_done(planned)
    except KeyboardInterrupt:
        found.interrupted = True
    return found


def _run(planned: Planned, folder: Path, out_dir: Path) -> dict[str, Any]:
    config = planned.config
    out = (out_dir / planned.file_name).resolve()
    try:
        document = run_worker(config, out, timeout=config.duration * 4 + 300, cwd=folder)
    except WorkerFailed as error:
        raise SideFailed(planned.side, str(error)) from None
    if document.get("interrupted"):
        raise KeyboardInterrupt  # the worker was stopped by the user's Ctrl-C too
    return document


def _record(found: Measurements, planned: Planned, document: dict[str, Any]) -> None:
    found.runs += 1
    mode = planned.config.mode
    if planned.family == "deterministic":
        paths = (*COUNT_METRICS, *PER_AGENT_METRICS)
        found.deterministic[planned.side][mode] = {p: BY_PATH[p].value(document) for p in paths}
        return
    series = found.timing[planned.side][mode]
    for path in TIMING_METRICS:
        series[path][planned.index] = BY_PATH[path].value(document)


def _slowed(config: WorkerConfig, side: str, head_slowdown: float | None) -> WorkerConfig:
    """The head's runs carry the slowdown; the base's never do (its engine may be too old
    to have the instruments it needs)."""
    if side != HEAD or head_slowdown is None:
        return config
    return dataclasses.replace(config, inject_slowdown=head_slowdown)


def _virtual_config(mode: str, settings: GateSettings) -> WorkerConfig:
    return WorkerConfig(
        mode,
        settings.virtual_agents,
        settings.virtual_duration,
        clock="virtual",
        trace_python=True,
    )
