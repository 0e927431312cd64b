"""memray around the set-up phase: where the bytes of thousands of agents go.

The child (`python -m memray run ... -m bench.profiling.setup_only`) traces every allocation,
pymalloc's small objects included, so each object is charged to the line that created it.
The figures come from memray's own reader: peak memory and allocation count from the
file's metadata, and the allocations alive at the peak as stacks weighted by bytes.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.profiling.child import Finished, run_child, tail
from bench.profiling.setup_only import SETUP_FUNCTION
from bench.profiling.stacks import NO_PYTHON_FRAME, Stacks, focus, frame_name, total_weight
from bench.profiling.top import TOP_N, profile_table


def check_memray() -> None:
    """Refuse before any work when memray cannot be imported by this interpreter."""
    if importlib.util.find_spec("memray") is None:
        raise BenchError(
            f"memray is not installed for {sys.executable}: install the project's dependencies "
            "(make setup) or `pip install 'memray>=1.11,<2'`"
        )


def trace_command(output: Path, setup_args: list[str]) -> list[str]:
    """`memray run` of the set-up phase alone, pymalloc allocations included."""
    return [
        *(sys.executable, "-m", "memray", "run", "--quiet", "--force"),
        *("--trace-python-allocators", "--output", str(output)),
        *("-m", "bench.profiling.setup_only", *setup_args),
    ]


def flamegraph_command(capture: Path, html: Path) -> list[str]:
    """`memray flamegraph` of the peak, with its scripts inlined (opens offline)."""
    return [
        *(sys.executable, "-m", "memray", "flamegraph", "--force", "--no-web"),
        *("--output", str(html), str(capture)),
    ]


def run_memray(command: list[str], cwd: Path, what: str) -> Finished:
    """Run one memray command; BenchError with the end of its output if it failed."""
    finished = run_child(command, cwd)
    if finished.returncode != 0 and not finished.interrupted:
        raise BenchError(
            f"{what} failed (exit status {finished.returncode}):\n{tail(finished.output)}"
        )
    return finished


def read_capture(capture: Path, shorten: Callable[[str], str]) -> tuple[dict[str, Any], Stacks]:
    """The capture's metadata and the allocations alive at its peak, as stacks of bytes."""
    import memray  # imported here: only --memory needs it

    with memray.FileReader(capture) as reader:
        metadata = reader.metadata
        records = reader.get_high_watermark_allocation_records(merge_threads=True)
        stacks: Stacks = Counter()
        for record in records:
            frames = [frame_name(f, shorten(p), line) for f, p, line in record.stack_trace()]
            stacks[tuple(reversed(frames)) or (NO_PYTHON_FRAME,)] += record.size
    figures = {
        "peak_memory_bytes": metadata.peak_memory,
        "total_allocations": metadata.total_allocations,
        "tracked_s": round((metadata.end_time - metadata.start_time).total_seconds(), 3),
        "trace_python_allocators": metadata.trace_python_allocators,
    }
    return figures, stacks


def memory_summary(
    figures: dict[str, Any], stacks: Stacks, agents: int, n: int = TOP_N
) -> dict[str, Any]:
    """Peak figures and the table of the bytes that setting up the agents holds at the peak.

    The table leaves out what the interpreter and the imports hold: only stacks through
    `set_up_agents` count, so its shares are shares of the set-up's bytes.
    """
    setup = focus(stacks, SETUP_FUNCTION)
    setup_bytes = total_weight(setup)
    return {
        **figures,
        "bytes_at_peak": total_weight(stacks),
        "setup_bytes_at_peak": setup_bytes,
        "setup_bytes_per_agent": round(setup_bytes / agents, 1) if agents else None,
        **profile_table(setup, n, unit="bytes"),
    }
