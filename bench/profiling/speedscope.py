"""Speedscope → collapsed stacks: the one recording gives the tables and the raw stacks.

py-spy's speedscope file has a shared frame list (`name`, `file`, `line`) and one `sampled`
profile per thread whose `samples` are lists of frame indices, root first, one entry per
sample. Collapsing sums the threads and forgets the order of the samples, as py-spy's own
`--format raw` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.profiling.stacks import NO_PYTHON_FRAME, Stacks, frame_name


def collapse_speedscope(
    document: dict[str, Any], shorten: Callable[[str], str] = lambda path: path
) -> Stacks:
    """Count every sample of every sampled profile by its stack of named frames."""
    names = [_name(frame, shorten) for frame in document["shared"]["frames"]]
    stacks: Stacks = Counter()
    for profile in document["profiles"]:
        if profile.get("type") != "sampled":
            kind = profile.get("type")
            raise ValueError(f"only sampled speedscope profiles can be collapsed, not {kind!r}")
        for sample in profile["samples"]:
            stacks[tuple(names[index] for index in sample) or (NO_PYTHON_FRAME,)] += 1
    return stacks


def _name(frame: dict[str, Any], shorten: Callable[[str], str]) -> str:
    path = frame.get("file")
    return frame_name(frame["name"], shorten(path) if path else None, frame.get("line"))
