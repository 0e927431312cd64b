"""What a suite measures: the profiles, the configuration matrix and its interleaved order.

A configuration is a mode at a size in a layout (bench/suite/layout.py): one local process,
as every profile but `scale` has, or MQTT through one or more worker processes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TypeVar

from bench.broker import mosquitto_path
from bench.collector import check_gc_mode
from bench.errors import BenchError
from bench.suite.layout import LOCAL, Layout, column_key, tag_of
from bench.suite.worker import WorkerConfig
from bench.workload import MODES, check_memory, floor_mode, get_mode, make_config

VIRTUAL = "virtual"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Profile:
    """A preset matrix: sizes, run length and repeats, sized for this 2-core machine."""

    agents: tuple[int, ...]
    duration: float
    repeat: int
    modes: tuple[str, ...] | None = None
    """The modes it measures unless --modes says otherwise; None = every mode."""
    layouts: tuple[Layout, ...] = (LOCAL,)
    """Where each configuration runs; every profile but `scale` has one local process."""
    reference: bool = False
    """Also one virtual-clock run of the floor mode per size: the physics' own flashes per
    second, which nothing slowed down (exact, so run once, not repeated)."""


PROFILES: dict[str, Profile] = {
    "quick": Profile(agents=(100, 400), duration=5.0, repeat=2),
    "default": Profile(agents=(400, 900, 2500), duration=15.0, repeat=3),
    "full": Profile(agents=(400, 900, 2500, 4900, 10000), duration=20.0, repeat=3),
    "scale": Profile(
        agents=(2500, 10000, 22500),
        duration=20.0,
        repeat=3,
        modes=("shared", "raw"),
        layouts=(LOCAL, Layout("mqtt", 1), Layout("mqtt", 2)),
        reference=True,
    ),
}


@dataclass(frozen=True, slots=True)
class Matrix:
    """Every configuration of a suite and how often each one runs."""

    profile: str
    modes: tuple[str, ...]
    agents: tuple[int, ...]
    duration: float
    repeat: int
    layouts: tuple[Layout, ...] = (LOCAL,)
    reference: bool = False
    gc: str = "default"
    """The garbage collector in every run (`bench run --gc`)."""

    @property
    def configs(self) -> list[WorkerConfig]:
        """One WorkerConfig per (agents, layout, mode), in table order (references apart)."""
        return [
            _config(mode, agents, self.duration, layout, gc=self.gc)
            for agents in self.agents
            for layout in self.layouts
            for mode in self.modes
        ]

    @property
    def references(self) -> list[WorkerConfig]:
        """The virtual-clock run of the floor mode per size, when the profile asks for it."""
        floor = floor_mode()
        if not self.reference or floor is None:
            return []
        return [_config(floor, a, self.duration, LOCAL, VIRTUAL, self.gc) for a in self.agents]

    @property
    def columns(self) -> tuple[str, ...]:
        """The suite tables' columns: each layout's modes ("shared", "shared@mqtt-2w"), then
        the reference's ("raw@virtual")."""
        found = [column_key(m, layout.tag) for layout in self.layouts for m in self.modes]
        found += [column_key(c.mode, tag_of(c.layout, c.clock)) for c in self.references[:1]]
        return tuple(found)

    @property
    def runs(self) -> int:
        """How many worker runs the suite makes."""
        return len(self.configs) * self.repeat + len(self.references)


def _config(
    mode: str,
    agents: int,
    duration: float,
    layout: Layout,
    clock: str = "real",
    gc: str = "default",
) -> WorkerConfig:
    return WorkerConfig(
        mode, agents, duration, clock=clock, transport=layout.transport, workers=layout.workers,
        gc=gc,
    )  # fmt: skip


def make_matrix(
    profile: str = "default",
    *,
    modes: list[str] | None = None,
    agents: list[int] | None = None,
    duration: float | None = None,
    repeat: int | None = None,
    gc: str = "default",
) -> Matrix:
    """A profile with any of its values overridden; BenchError on the first bad value.

    A mode or size named twice is measured once (see `repeated_notes`): two columns of the
    same configuration would only overwrite each other's run documents.
    """
    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    check_gc_mode(gc)
    preset = PROFILES[profile]
    chosen_modes = tuple(dict.fromkeys(modes or preset.modes or MODES))
    for mode in chosen_modes:
        get_mode(mode)
    sizes = tuple(dict.fromkeys(agents or preset.agents))
    length = preset.duration if duration is None else duration
    floor = floor_mode() if preset.reference else None
    for size in sizes:
        # The same checks and messages as `bench run`, less the --grid-side the suite lacks.
        grid = make_config(agents=size, duration=length, offer_grid_side=False)
        for layout in preset.layouts:
            if layout.workers is not None and layout.workers > grid.side:
                raise BenchError(
                    f"--agents {size} has {grid.side} rows, too few for the {layout.workers} "
                    "workers of this profile (each carries whole rows)"
                )
        for mode in (*chosen_modes, *([floor] if floor else [])):
            check_memory(mode, size)  # refused before the first run, not during the suite
    count = preset.repeat if repeat is None else repeat
    if count < 1:
        raise BenchError(f"--repeat must be at least 1, got {count}")
    if any(layout.transport == "mqtt" for layout in preset.layouts):
        mosquitto_path()  # each MQTT run starts its own broker: refuse now if there is none
    return Matrix(profile, chosen_modes, sizes, length, count, preset.layouts, preset.reference, gc)


def repeated_notes(modes: list[str] | None, agents: list[int] | None) -> list[str]:
    """One note per value given more than once to --modes or --agents (measured once)."""
    notes = []
    for option, values in (("--modes", modes or []), ("--agents", agents or [])):
        for value, count in Counter(values).items():
            if count > 1:
                times = "twice" if count == 2 else f"{count} times"
                notes.append(f"{option} names {value} {times}; measuring it once")
    return notes


def interleaved(matrix: Matrix) -> list[tuple[WorkerConfig, int]]:
    """(config, repeat index) in round-robin order: every config once, then again, ...

    The mode order rotates from one round to the next so that no mode always runs right
    after the same neighbour: machine drift spreads evenly over the modes. With several
    layouts, their order rotates too, so that each takes its turn first. The references
    (virtual clock: exact, so run once) come first, as round 0.
    """
    order = [(config, 0) for config in matrix.references]
    for round_index in range(matrix.repeat):
        modes = _rotated(matrix.modes, round_index)
        layouts = _rotated(matrix.layouts, round_index)
        for agents in matrix.agents:
            order += [
                (_config(mode, agents, matrix.duration, layout, gc=matrix.gc), round_index)
                for layout in layouts
                for mode in modes
            ]
    return order


def _rotated(values: tuple[_T, ...], by: int) -> tuple[_T, ...]:
    shift = by % len(values)
    return values[shift:] + values[:shift]
