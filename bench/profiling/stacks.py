"""Collapsed stacks: the `frame;frame;...;leaf COUNT` lines of py-spy's raw format.

A stack is a tuple of frames, root first; a frame is py-spy's `function (path/file.py:line)`.
Counts are samples for py-spy and bytes for memray: every function here only adds them up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

NO_PYTHON_FRAME = "[no Python frame]"
"""The one frame of a sample or allocation that had no Python frame (a thread in C only)."""

Stack = tuple[str, ...]
Stacks = Counter[Stack]
"""Stack → weight (samples or bytes)."""

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse_collapsed(text: str) -> Stacks:
    """Read collapsed-stack lines; ValueError names the first line that is not one."""
    stacks: Stacks = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        frames, _, count = line.rstrip().rpartition(" ")
        if not frames or not count.isdigit():
            raise ValueError(f"line {number} is not 'frame;frame;... COUNT': {line[:80]!r}")
        stacks[tuple(frames.split(";"))] += int(count)
    return stacks


def format_collapsed(stacks: Stacks) -> str:
    """The collapsed-stack text of `stacks`, one sorted line per stack (flamegraph.pl input)."""
    lines = (f"{';'.join(stack) or NO_PYTHON_FRAME} {n}\n" for stack, n in sorted(stacks.items()))
    return "".join(lines)


def frame_path(frame: str) -> str | None:
    """The file of a `function (path:line)` frame, or None for a frame without one."""
    match = _FRAME.match(frame)
    return match["path"] if match else None


def function_of(frame: str) -> str:
    """The frame without its line number: `function (path)`, so a function's lines add up."""
    match = _FRAME.match(frame)
    if not match or match["line"] is None:
        return frame
    return f"{match['name']} ({match['path']})"


def _name_of(frame: str) -> str:
    match = _FRAME.match(frame)
    return match["name"] if match else frame


def frame_name(function: str, path: str | None, line: int | None) -> str:
    """A frame in py-spy's notation: `function (path:line)`, `function (path)` or `function`."""
    if path is None:
        return function
    return f"{function} ({path}:{line})" if line is not None else f"{function} ({path})"


def shorten_path(path: str, prefixes: Sequence[str]) -> str:
    """`path` relative to the longest of `prefixes` it lies under (as py-spy shortens names)."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        folder = prefix.rstrip("/") + "/"
        if path.startswith(folder):
            return path[len(folder) :]
    return path


def focus(stacks: Stacks, function: str) -> Stacks:
    """Only the stacks through `function` (a bare name), each cut to start at its first call."""
    focused: Stacks = Counter()
    for stack, count in stacks.items():
        start = next((i for i, frame in enumerate(stack) if _name_of(frame) == function), None)
        if start is not None:
            focused[stack[start:]] += count
    return focused


def without(stacks: Stacks, function: str) -> Stacks:
    """The stacks that never call `function` (a bare name)."""
    return Counter(
        {
            stack: count
            for stack, count in stacks.items()
            if all(_name_of(frame) != function for frame in stack)
        }
    )


def total_weight(stacks: Stacks) -> int:
    """All samples (or bytes) in `stacks`."""
    return sum(stacks.values())
