"""One configuration profiled with py-spy: the `bench run` child, its samples and its result.

Recording 1 (speedscope) is the profiled run: its samples give the collapsed stacks and the
tables, its result document is kept with `"profiled": true`. Recording 2 (flamegraph) runs
the same configuration again only because py-spy draws its SVG from its own samples and
writes one format per recording; its result document is thrown away.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.profiling.child import Finished, tail
from bench.profiling.files import ProfileFiles
from bench.profiling.pyspy import Sampling, record, record_command
from bench.profiling.speedscope import collapse_speedscope
from bench.profiling.stacks import Stacks, format_collapsed
from bench.result_file import write_json_atomic, write_text_atomic
from bench.runner import RunSpec
from bench.schema import load_result
from bench.suite.worker import WorkerConfig

ROOT = Path(__file__).resolve().parents[2]
"""The folder holding the `bench` package: where the child runs `python -m bench`."""


class Interrupted(Exception):
    """Ctrl-C stopped a recording: py-spy wrote its file so far and ended the run."""

    def __init__(self, written: Path) -> None:
        super().__init__(
            f"interrupted: py-spy stopped the run; its samples so far are in {written}"
        )


@dataclass(frozen=True, slots=True)
class CpuProfile:
    """What one profiled run left: its stacks, its result document, whether it was stopped."""

    stacks: Stacks
    document: dict[str, Any]
    interrupted: bool


def run_argv(spec: RunSpec, out: Path) -> list[str]:
    """`python -m bench run` of `spec`, quiet, writing its result to `out`."""
    config = spec.config
    worker = WorkerConfig(
        spec.mode, config.agents, config.duration, config.period, config.nudge, config.seed,
        spec.clock, spec.loop,
    )  # fmt: skip
    return [sys.executable, "-m", "bench", *worker.argv(out)]


def profile_run(
    py_spy: Path,
    spec: RunSpec,
    files: ProfileFiles,
    sampling: Sampling,
    shorten: Callable[[str], str],
) -> CpuProfile:
    """Record the run as speedscope, derive the collapsed stacks, flag and keep its result."""
    for stale in (files.speedscope, files.run):
        stale.unlink(missing_ok=True)  # a failed run must not pass for a result of this one
    command = record_command(
        py_spy, "speedscope", files.speedscope, sampling, run_argv(spec, files.run)
    )
    finished = record(command, ROOT)
    if finished.interrupted:  # py-spy ends the run on Ctrl-C, before it writes a result
        raise Interrupted(files.speedscope)
    document = flag_profiled(files.run, finished)
    stacks = collapse_speedscope(_read_json(files.speedscope, finished), shorten)
    write_text_atomic(files.collapsed, format_collapsed(stacks))
    return CpuProfile(stacks, document, document["interrupted"])


def record_flamegraph(py_spy: Path, spec: RunSpec, files: ProfileFiles, sampling: Sampling) -> None:
    """A second recording of the same configuration, for py-spy's SVG flame graph."""
    scratch = files.path(".flamegraph-run.json")
    files.svg.unlink(missing_ok=True)
    try:
        command = record_command(py_spy, "flamegraph", files.svg, sampling, run_argv(spec, scratch))
        finished = record(command, ROOT)
        if finished.interrupted:
            raise Interrupted(files.svg)
        if not scratch.exists() or not files.svg.exists():
            raise BenchError(_run_failed("the flame-graph run", finished))
    finally:
        scratch.unlink(missing_ok=True)


def flag_profiled(run_file: Path, finished: Finished) -> dict[str, Any]:
    """Load the child's result, add `"profiled": true` and rewrite it atomically."""
    if not run_file.exists():
        raise BenchError(_run_failed("the profiled run", finished))
    document = load_result(run_file)
    document["profiled"] = True
    write_json_atomic(run_file, document)
    return document


def _read_json(path: Path, finished: Finished) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(
            f"py-spy wrote no readable profile {path} ({error}):\n{tail(finished.output)}"
        ) from None
    return document


def _run_failed(what: str, finished: Finished) -> str:
    return f"{what} failed and wrote no result; the end of its output:\n{tail(finished.output)}"
