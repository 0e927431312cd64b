"""Where a profile's files go: `<dir>/<commit10>-<mode>-<agents>.<kind>`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROFILES_DIR = Path("results/profiles")
"""Kept apart from results/runs/: the suite and reports never read a profiled run."""


@dataclass(frozen=True, slots=True)
class ProfileFiles:
    """The files of one profiled configuration, all named after `stem`."""

    folder: Path
    stem: str

    def path(self, suffix: str) -> Path:
        """The file `<stem><suffix>`, e.g. suffix ".svg"."""
        return self.folder / f"{self.stem}{suffix}"

    @property
    def svg(self) -> Path:
        """py-spy's flame graph."""
        return self.path(".svg")

    @property
    def speedscope(self) -> Path:
        """py-spy's speedscope profile (every sample, per thread, in time order)."""
        return self.path(".speedscope.json")

    @property
    def collapsed(self) -> Path:
        """The collapsed stacks, derived from the speedscope profile."""
        return self.path(".collapsed.txt")

    @property
    def top(self) -> Path:
        """The table: group shares and top functions."""
        return self.path(".top.json")

    @property
    def run(self) -> Path:
        """The profiled run's own result document, flagged `"profiled": true`."""
        return self.path(".run.json")


def profile_stem(commit: str | None, mode: str, agents: int) -> str:
    """`<commit10>-<mode>-<agents>`; "nocommit" outside a git checkout."""
    return f"{(commit or 'nocommit')[:10]}-{mode}-{agents}"


def compare_stem(commit: str | None, modes: tuple[str, str], agents: int) -> str:
    """`<commit10>-<a>-vs-<b>-<agents>`, the differential's name."""
    return profile_stem(commit, f"{modes[0]}-vs-{modes[1]}", agents)
