"""What a suite measures: the profiles, the configuration matrix and its interleaved order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.errors import BenchError
from bench.suite.worker import WorkerConfig
from bench.workload import MODES, check_memory, get_mode, make_config


@dataclass(frozen=True, slots=True)
class Profile:
    """A preset matrix: sizes, run length and repeats, sized for this 2-core machine."""

    agents: tuple[int, ...]
    duration: float
    repeat: int


PROFILES: dict[str, Profile] = {
    "quick": Profile(agents=(100, 400), duration=5.0, repeat=2),
    "default": Profile(agents=(400, 900, 2500), duration=15.0, repeat=3),
    "full": Profile(agents=(400, 900, 2500, 4900, 10000), duration=20.0, repeat=3),
}


@dataclass(frozen=True, slots=True)
class Matrix:
    """Every configuration of a suite and how often each one runs."""

    profile: str
    modes: tuple[str, ...]
    agents: tuple[int, ...]
    duration: float
    repeat: int

    @property
    def configs(self) -> list[WorkerConfig]:
        """One WorkerConfig per (agents, mode), in table order."""
        return [WorkerConfig(m, a, self.duration) for a in self.agents for m in self.modes]


def make_matrix(
    profile: str = "default",
    *,
    modes: list[str] | None = None,
    agents: list[int] | None = None,
    duration: float | None = None,
    repeat: int | None = None,
) -> Matrix:
    """A profile with any of its values overridden; BenchError on the first bad value.

    A mode or size named twice is measured once (see `repeated_notes`): two columns of the
    same configuration would only overwrite each other's run documents.
    """
    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    preset = PROFILES[profile]
    chosen_modes = tuple(dict.fromkeys(modes or MODES))
    for mode in chosen_modes:
        get_mode(mode)
    sizes = tuple(dict.fromkeys(agents or preset.agents))
    length = preset.duration if duration is None else duration
    for size in sizes:
        # The same checks and messages as `bench run`, less the --grid-side the suite lacks.
        make_config(agents=size, duration=length, offer_grid_side=False)
        for mode in chosen_modes:  # refused before the first run, not during the suite
            check_memory(mode, size)
    count = preset.repeat if repeat is None else repeat
    if count < 1:
        raise BenchError(f"--repeat must be at least 1, got {count}")
    return Matrix(profile, chosen_modes, sizes, length, count)


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
    after the same neighbour: machine drift spreads evenly over the modes.
    """
    order = []
    for round_index in range(matrix.repeat):
        shift = round_index % len(matrix.modes)
        modes = matrix.modes[shift:] + matrix.modes[:shift]
        for agents in matrix.agents:
            order += [(WorkerConfig(m, agents, matrix.duration), round_index) for m in modes]
    return order
