"""What a suite measures: the profiles, the configuration matrix and its interleaved order."""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import BenchError
from bench.suite.worker import WorkerConfig
from bench.workload import MODES, get_mode, make_config


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
    """A profile with any of its values overridden; BenchError on the first bad value."""
    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    preset = PROFILES[profile]
    chosen_modes = tuple(modes or MODES)
    for mode in chosen_modes:
        get_mode(mode)
    sizes = tuple(agents or preset.agents)
    length = preset.duration if duration is None else duration
    for size in sizes:
        make_config(agents=size, duration=length)  # same checks and messages as `bench run`
    count = preset.repeat if repeat is None else repeat
    if count < 1:
        raise BenchError(f"REPEAT must be at least 1, got {count}")
    return Matrix(profile, chosen_modes, sizes, length, count)


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
