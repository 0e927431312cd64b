"""The gate's settings: `[tool.bench.gate]` of pyproject.toml, then command-line overrides.

Every value is checked before anything runs; an unknown key or a bad value is a BenchError
that names the key and what it accepts.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.metrics import gated
from bench.workload import MODES, gate_modes, make_config

# Each metric declares whether and how the gate judges it (`Metric.gate` in bench/metrics.py).
TIMING_METRICS = tuple(metric.path for metric in gated("timing"))
"""Real-clock metrics compared pair by pair (head/base)."""

COUNT_METRICS = tuple(metric.path for metric in gated("count"))
"""Virtual-clock counts: exactly repeatable, compared exactly."""

PER_AGENT_METRICS = tuple(metric.path for metric in gated("per_agent"))
"""Virtual-clock setup costs per agent, compared within `tolerance`."""

MIN_PAIRS = 5

TAIL_THRESHOLDS = {
    metric.path: metric.gate.threshold
    for metric in gated("timing")
    if metric.gate and metric.gate.threshold is not None
}
"""The timing metrics' own thresholds (tail latencies of short runs are too noisy for 10%);
a [tool.bench.gate.thresholds] table overrides these per metric."""


@dataclass(frozen=True, slots=True)
class GateSettings:
    """What the gate measures and how strictly it judges; see pyproject.toml for each value."""

    agents: int = 900
    duration: float = 3.0
    pairs: int = 7
    modes: tuple[str, ...] = field(default_factory=gate_modes)  # the modes that say `gated`
    threshold: float = 0.10
    confidence: float = 0.99
    virtual_agents: int = 100
    virtual_duration: float = 5.0
    tolerance: float = 0.01
    instructions: bool = True
    instruction_threshold: float = 0.01
    instruction_warmup: float = 1.0
    instruction_duration: float = 2.0
    shared_vs_raw: float = 2.0
    min_ms: float = 10.0
    thresholds: dict[str, float] = field(default_factory=lambda: dict(TAIL_THRESHOLDS))

    def threshold_for(self, path: str) -> float:
        """The regression threshold of one timing metric (its override, or the default)."""
        return self.thresholds.get(path, self.threshold)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for gate.json."""
        return {**dataclasses.asdict(self), "modes": list(self.modes)}


def load_settings(pyproject: Path, overrides: dict[str, Any] | None = None) -> GateSettings:
    """Settings from `pyproject` ([tool.bench.gate], optional), non-None `overrides` on top.

    `overrides` come from the command line: a bad one is named as its option (--pairs), a
    bad value from the file by the file and key.
    """
    table: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise BenchError(f"cannot read {pyproject}: {error}") from None
        table = dict(document.get("tool", {}).get("bench", {}).get("gate", {}))
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    return settings_from(table | given, where=f"{pyproject} [tool.bench.gate]", options=given)


Namer = Callable[[str], str]
"""How a message names a setting: `--pairs` (command line) or `<file> [table]: pairs`."""


def settings_from(
    table: dict[str, Any], where: str = "[tool.bench.gate]", options: Collection[str] = ()
) -> GateSettings:
    """Check a settings table and build GateSettings from it (missing keys keep defaults).

    Keys in `options` were given on the command line: messages name them as options.
    """
    known = {f.name for f in dataclasses.fields(GateSettings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise BenchError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {sorted(known)}")
    name = _namer(where, frozenset(options))
    values = dict(table)
    if "modes" in values:
        values["modes"] = _modes(values["modes"], name("modes"))
    for key in ("agents", "pairs", "virtual_agents"):
        if key in values:
            values[key] = _integer(values[key], name(key))
    if "instructions" in values and not isinstance(values["instructions"], bool):
        raise BenchError(f"{name('instructions')} must be true or false")
    numbers = ("duration", "threshold", "confidence", "virtual_duration", "tolerance", "min_ms")
    for key in (*numbers, "instruction_threshold", "instruction_warmup", "instruction_duration"):
        if key in values:
            values[key] = _number(values[key], name(key))
    if "shared_vs_raw" in values:
        values["shared_vs_raw"] = _number(values["shared_vs_raw"], name("shared_vs_raw"))
    if "thresholds" in values:
        values["thresholds"] = TAIL_THRESHOLDS | _thresholds(values["thresholds"], where)
    settings = GateSettings(**values)
    _check(settings, name)
    return settings


def _namer(where: str, options: frozenset[str]) -> Namer:
    return lambda key: f"--{key.replace('_', '-')}" if key in options else f"{where}: {key}"


def _check(settings: GateSettings, name: Namer) -> None:
    if settings.pairs < MIN_PAIRS:
        raise BenchError(f"{name('pairs')} must be at least {MIN_PAIRS}, got {settings.pairs}")
    if not 0 < settings.confidence < 1:
        raise BenchError(f"{name('confidence')} must be between 0 and 1, got {settings.confidence}")
    for key in ("threshold", "tolerance", "instruction_threshold"):
        value = getattr(settings, key)
        if not 0 <= value < 1:
            raise BenchError(f"{name(key)} must be a fraction in [0, 1), got {value}")
    if settings.min_ms < 0:
        raise BenchError(f"{name('min_ms')} must be at least 0, got {settings.min_ms}")
    if settings.shared_vs_raw < 1:
        raise BenchError(
            f"{name('shared_vs_raw')} must be at least 1, got {settings.shared_vs_raw}"
        )
    for key in ("agents", "virtual_agents"):
        _workload(name(key), agents=getattr(settings, key))
    for key in ("duration", "virtual_duration", "instruction_duration"):
        _workload(name(key), duration=getattr(settings, key))
    if settings.instruction_warmup < 0:
        raise BenchError(
            f"{name('instruction_warmup')} must be at least 0 seconds, got "
            f"{settings.instruction_warmup}"
        )


def _workload(label: str, **value: Any) -> None:
    """`bench run`'s check of one value (the same rule), its message naming `label`.

    Its messages begin with `bench run`'s option (`--agents must be ...`), which is replaced.
    """
    try:
        make_config(offer_grid_side=False, **value)  # the gate has no --grid-side
    except BenchError as error:
        raise BenchError(f"{label} {str(error).split(' ', 1)[1]}") from None


def _modes(value: Any, label: str) -> tuple[str, ...]:
    names = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names:
        raise BenchError(f"{label} must be a non-empty list of {', '.join(MODES)}")
    for mode in names:
        if not isinstance(mode, str) or mode not in MODES:
            raise BenchError(f"{label}: unknown mode {mode!r}; choose from {', '.join(MODES)}")
    return tuple(dict.fromkeys(names))


def _integer(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BenchError(f"{label} must be an integer, got {value!r}")
    return value


def _number(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BenchError(f"{label} must be a finite number, got {value!r}")
    return float(value)


def _thresholds(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise BenchError(f"{where}: thresholds must be a table of metric = fraction")
    result = {}
    for path, fraction in value.items():
        if path not in TIMING_METRICS:
            raise BenchError(
                f"{where}: thresholds.{path}: not a timing metric; use one of "
                f"{', '.join(TIMING_METRICS)}"
            )
        number = _number(fraction, f"{where}: thresholds.{path}")
        if not 0 <= number < 1:
            raise BenchError(f"{where}: thresholds.{path} must be a fraction in [0, 1)")
        result[path] = number
    return result
