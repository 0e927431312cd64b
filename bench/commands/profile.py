"""`python -m bench profile`: where the time (py-spy) or the bytes (memray) of a run go.

Everything is checked before any work: the workload options (as `bench run` checks them),
the tools, ptrace, the output folder. Files go to results/profiles/, which the suite and the
reports never read, so a profiled run's timings are never mixed into benchmark results.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.commands.run import RunOptions, build_spec
from bench.environment import collect_meta
from bench.errors import BenchError
from bench.profiling.cpu import ROOT, CpuProfile, Interrupted, profile_run, record_flamegraph
from bench.profiling.diff import differential
from bench.profiling.files import PROFILES_DIR, ProfileFiles, compare_stem, profile_stem
from bench.profiling.memory import (
    check_memray,
    flamegraph_command,
    memory_summary,
    read_capture,
    run_memray,
    trace_command,
)
from bench.profiling.pyspy import MAX_RATE, Sampling, check_ptrace, find_py_spy
from bench.profiling.render import (
    changes_table,
    functions_table,
    group_changes_table,
    groups_table,
    memory_figures_table,
)
from bench.profiling.stacks import shorten_path, without
from bench.profiling.top import IMPORT_FUNCTION, TOP_N, run_table
from bench.result_file import check_writable, write_json_atomic
from bench.runner import RunSpec

PROFILE_FORMAT = 1
"""Version of the .top.json, .diff.json and .memory.json documents. History: 1 = first."""


@dataclass(frozen=True, slots=True)
class ProfileOptions:
    """The command line of `bench profile`, before it is checked."""

    run: RunOptions = field(default_factory=RunOptions)
    compare: tuple[str, str] | None = None
    memory: bool = False
    sampling: Sampling = field(default_factory=Sampling)
    flamegraph: bool = True
    top: int = TOP_N
    out_dir: Path = PROFILES_DIR
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class _Job:
    """What every step of one `bench profile` shares once the input is checked."""

    options: ProfileOptions
    specs: list[RunSpec]
    commit: str | None
    out: Console
    log: Console

    def files(self, spec: RunSpec) -> ProfileFiles:
        return ProfileFiles(self.folder, profile_stem(self.commit, spec.mode, spec.config.agents))

    @property
    def folder(self) -> Path:
        return self.options.out_dir.resolve()


def profile_command(options: ProfileOptions) -> int:
    """Check everything, then profile; 0 when done, 130 when Ctrl-C cut a run short."""
    specs = check_options(options)
    py_spy = None if options.memory else find_py_spy()
    check_writable(options.out_dir / "profile.json", "--out-dir")
    if py_spy is not None:
        check_ptrace()
    commit = collect_meta(loop=specs[0].loop, clock="real")["commit"]
    out, log = Console(quiet=options.quiet), Console(stderr=True, quiet=options.quiet)
    job = _Job(options, specs, commit, out, log)
    return _memory(job, specs[0]) if py_spy is None else _cpu(job, py_spy)


def check_options(options: ProfileOptions) -> list[RunSpec]:
    """The run spec of every mode to profile; BenchError on the first bad option."""
    if options.compare and options.memory:
        raise BenchError(
            "--memory traces the set-up of one --mode; it cannot be used with --compare"
        )
    modes = list(options.compare or (options.run.mode,))
    if len(set(modes)) != len(modes):
        raise BenchError(f"--compare needs two different modes, got {modes[0]!r} twice")
    _check_rate(options.sampling.rate)
    if options.top < 1:
        raise BenchError(f"--top must be at least 1, got {options.top}")
    if options.memory:
        check_memray()
    return [build_spec(replace(options.run, mode=mode, clock="real")) for mode in modes]


def _check_rate(rate: int) -> None:
    if rate < 1:
        raise BenchError(f"--rate must be at least 1 sample per second, got {rate}")
    if rate > MAX_RATE:
        raise BenchError(
            f"--rate must be at most {MAX_RATE} samples per second, got {rate}: py-spy pauses "
            "the run for every sample and cannot keep up beyond that"
        )


def _cpu(job: _Job, py_spy: Path) -> int:
    profiles: list[CpuProfile] = []
    for spec in job.specs:
        try:
            profile = _profile_one(job, py_spy, spec)
        except Interrupted as stopped:
            job.log.print(f"[yellow]{stopped}[/yellow]")
            return 130
        profiles.append(profile)
        if profile.interrupted:
            job.log.print("[yellow]interrupted:[/yellow] the profile covers only part of the run")
            return 130
    if job.options.compare:
        _compare(job, profiles)
    return 0


def _profile_one(job: _Job, py_spy: Path, spec: RunSpec) -> CpuProfile:
    files, sampling = job.files(spec), job.options.sampling
    job.log.print(f"profiling {_label(spec)} under py-spy ({sampling.rate} Hz) ...")
    profile = profile_run(py_spy, spec, files, sampling, source_shortener())
    if job.options.flamegraph and not profile.interrupted:
        job.log.print(f"recording the flame graph: {_label(spec)} again ...")
        record_flamegraph(py_spy, spec, files, sampling)
    table = _cpu_header(job, spec, profile, py_spy) | run_table(profile.stacks, job.options.top)
    write_json_atomic(files.top, table)
    _print_cpu_table(job.out, table, _label(spec))
    job.log.print(f"written: {_written(files, job.options.flamegraph and not profile.interrupted)}")
    return profile


def _compare(job: _Job, profiles: list[CpuProfile]) -> None:
    a, b = job.specs
    labels = (a.mode, b.mode)
    a_stacks, b_stacks = (without(p.stacks, IMPORT_FUNCTION) for p in profiles)
    diff = differential(a_stacks, b_stacks, labels, job.options.top)
    header = {
        "profile_format": PROFILE_FORMAT,
        "commit": job.commit,
        "agents": a.config.agents,
        "imports_left_out": True,  # as in the .top.json tables
    }
    path = job.folder / f"{compare_stem(job.commit, labels, a.config.agents)}.diff.json"
    write_json_atomic(path, header | diff)
    job.out.print(
        group_changes_table(diff), changes_table(diff, "self"), changes_table(diff, "total")
    )
    job.log.print(f"written: {path}")


def _memory(job: _Job, spec: RunSpec) -> int:
    files = job.files(spec)
    capture, html = files.path(".memray.bin"), files.path(".memray.html")
    job.log.print(
        f"tracing the set-up of {spec.mode}, {spec.config.agents:,} agents under memray ..."
    )
    traced = run_memray(trace_command(capture, setup_args(spec)), ROOT, "memray run of the set-up")
    if traced.interrupted:
        job.log.print("[yellow]interrupted:[/yellow] no memory profile written")
        return 130
    run_memray(flamegraph_command(capture, html), ROOT, "memray flamegraph")
    figures, stacks = read_capture(capture, source_shortener())
    summary = memory_summary(figures, stacks, spec.config.agents, job.options.top)
    document = _memory_header(job, spec, capture, html) | summary
    write_json_atomic(files.path(".memory.json"), document)
    _print_memory_table(job.out, document, spec)
    job.log.print(f"written: {html}, {files.path('.memory.json')}, {capture}")
    return 0


def setup_args(spec: RunSpec) -> list[str]:
    """The workload options of `bench.profiling.setup_only` for `spec`."""
    config = spec.config
    return [
        *("--mode", spec.mode, "--agents", str(config.agents), "--seed", str(config.seed)),
        *("--period", repr(config.period), "--nudge", repr(config.nudge)),
    ]


def source_shortener() -> Callable[[str], str]:
    """Shortens a source path as py-spy does: relative to the checkout or the library folders."""
    paths = sysconfig.get_paths()
    prefixes = [str(ROOT), *(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))]
    return lambda path: shorten_path(path, prefixes)


def _cpu_header(job: _Job, spec: RunSpec, profile: CpuProfile, py_spy: Path) -> dict[str, Any]:
    sampling, document = job.options.sampling, profile.document
    work = document["metrics"]["work"]
    return {
        "profile_format": PROFILE_FORMAT,
        "tool": _version([str(py_spy), "--version"]),
        "sampling": {
            "rate_hz": sampling.rate,
            "idle": sampling.idle,
            "native": sampling.native,
            "gil": sampling.gil,
        },
        "commit": job.commit,
        "dirty": document["meta"]["dirty"],
        "started_at": document["meta"]["started_at"],
        "config": document["config"],
        "run": {key: work[key] for key in ("flashes_per_s", "cpu_us_per_generation", "run_s")},
        "interrupted": profile.interrupted,
    }


def _memory_header(job: _Job, spec: RunSpec, capture: Path, html: Path) -> dict[str, Any]:
    return {
        "profile_format": PROFILE_FORMAT,
        "tool": f"memray {importlib.metadata.version('memray')}",
        "commit": job.commit,
        "mode": spec.mode,
        "agents": spec.config.agents,
        "files": {"capture": capture.name, "flamegraph": html.name},
    }


def _print_cpu_table(out: Console, table: dict[str, Any], label: str) -> None:
    samples = f"{table['samples']:,} samples at {table['sampling']['rate_hz']} Hz"
    out.print(groups_table(table, f"{label}: where the samples went ({samples})"))
    out.print(f"left out: {table['imports_pct']:.1f} % of all samples, in imports (process start)")
    out.print(functions_table(table["top_self"], f"{label}: top functions by self time"))
    out.print(functions_table(table["top_total"], f"{label}: top functions by total time"))


def _print_memory_table(out: Console, document: dict[str, Any], spec: RunSpec) -> None:
    label = f"{spec.mode} set-up, {spec.config.agents:,} agents"
    out.print(memory_figures_table(document, f"{label}: memray"))
    title = f"{label}: the set-up's bytes at the peak"
    out.print(groups_table(document, f"{title}, by group"))
    out.print(functions_table(document["top_self"], f"{title}, by allocating function (self)"))
    out.print(functions_table(document["top_total"], f"{title}, by caller (total)"))


def _written(files: ProfileFiles, svg: bool) -> str:
    paths = [files.speedscope, files.collapsed, files.top, files.run] + [files.svg] * svg
    return ", ".join(str(path) for path in paths)


def _label(spec: RunSpec) -> str:
    return f"{spec.mode}, {spec.config.agents:,} agents, {spec.config.duration:g} s"


def _version(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None
