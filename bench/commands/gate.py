"""`python -m bench gate` (what `make gate` runs): does the head regress against the base?

Exit 0 = pass, 1 = regression, 2 = could not run (with the reason), 130 = interrupted
(Ctrl-C or SIGTERM).
Writes results/gate.md and results/gate.json in every case but bad command-line input;
`--validate` writes results/gate-validate.md/.json instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf
from rich.console import Console

from bench.errors import BenchError
from bench.gate import instruction_validation, validate
from bench.gate import report as gate_report
from bench.gate.checks import Series
from bench.gate.compare import cannot_run, compare_sides, compare_with_baseline
from bench.gate.report import GateReport
from bench.gate.settings import TIMING_METRICS, GateSettings, load_settings
from bench.gate.sides import Side, checked_out, default_base, is_dirty, repo_root, resolve
from bench.result_file import check_writable, write_json_atomic, write_text_atomic
from bench.slowdown import check_fraction
from bench.stopping import sigterm_stops
from bench.suite.pyperf_suite import load_suite_file, suite_values

VALIDATE_FAMILIES = ("all", "instructions", "timing")

_ROOT = Path(__file__).resolve().parents[2]
"""This checkout: its bench/ is the head's harness unless --head names a commit."""


@dataclass(frozen=True, slots=True)
class GateOptions:
    """The command line of `bench gate`, before it is checked."""

    base: str | None = None
    head: str | None = None
    baseline: Path | None = None
    inject_slowdown: float | None = None
    validate: bool = False
    validate_runs: int = 3
    validate_family: str = "all"
    validate_repeats: int = 10
    results_dir: Path = Path("results")
    quiet: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


def gate_command(options: GateOptions) -> int:
    """Run the gate (or its validation) and write its report; return the exit status."""
    settings = load_settings(_ROOT / "pyproject.toml", options.overrides)
    if options.baseline is not None and options.base is not None:
        raise BenchError("use --base REF or --baseline FILE, not both")
    if options.validate and (options.base or options.head or options.baseline):
        raise BenchError(
            "--validate compares the working tree with itself: drop --base/--head/--baseline"
        )
    if options.validate_runs < 1:
        raise BenchError(f"--validate-runs must be at least 1, got {options.validate_runs}")
    if options.validate_family not in VALIDATE_FAMILIES:
        raise BenchError(
            f"--validate-family must be one of {', '.join(VALIDATE_FAMILIES)}, got "
            f"{options.validate_family!r}"
        )
    if options.validate_repeats < 2:
        raise BenchError(f"--validate-repeats must be at least 2, got {options.validate_repeats}")
    name = "gate-validate" if options.validate else "gate"
    check_writable(options.results_dir / f"{name}.json", "--results-dir")
    console = Console(stderr=True, quiet=options.quiet)
    stored = None
    if options.baseline is not None:  # the user's file: bad input, refused before any run
        stored, settings = _stored(options.baseline, settings, console)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs_dir = (options.results_dir / "runs" / f"{name}-{stamp}").resolve()
    with sigterm_stops():  # a CI timeout's SIGTERM stops the gate as Ctrl-C does: no orphan
        if options.validate:
            return _validate(options, settings, runs_dir, console)
        report = _gate(options, settings, stored, runs_dir, console)
    write_json_atomic(options.results_dir / "gate.json", gate_report.as_json(report))
    write_text_atomic(options.results_dir / "gate.md", gate_report.as_markdown(report))
    out = Console(quiet=options.quiet)
    out.print(gate_report.as_table(report))
    for line in gate_report.attention(report):
        out.print(line)
    console.print(f"{gate_report.headline(report)}")
    console.print(
        f"written: {options.results_dir / 'gate.md'}, {options.results_dir / 'gate.json'}"
    )
    return report.exit_code


def _gate(
    options: GateOptions,
    settings: GateSettings,
    stored: Series | None,
    runs_dir: Path,
    console: Console,
) -> GateReport:
    """The sides (worktrees live until the comparison is done), then the comparison."""
    with contextlib.ExitStack() as stack:
        report = _compare(options, settings, stored, runs_dir, console, stack)
    return report


def _compare(
    options: GateOptions,
    settings: GateSettings,
    stored: Series | None,
    runs_dir: Path,
    console: Console,
    stack: contextlib.ExitStack,
) -> GateReport:
    head: Side | None = None
    try:
        head = _head(options, stack)
        if options.inject_slowdown is not None:
            head = _slowed(head, options.inject_slowdown)
        if stored is not None:
            label = str(options.baseline)
            return compare_with_baseline(stored, label, head, settings, runs_dir, console)
        base = _base(options, stack)
    except BenchError as error:
        asked = Side(options.base or "(default base)", None, Path())
        return cannot_run(str(error), settings, asked, head)
    return compare_sides(base, head, settings, runs_dir, console)


def _head(options: GateOptions, stack: contextlib.ExitStack) -> Side:
    if options.head is not None:
        repo = repo_root(_ROOT)
        commit = resolve(repo, options.head)
        return Side(options.head, commit, stack.enter_context(checked_out(repo, commit)))
    try:
        repo = repo_root(_ROOT)
    except BenchError:
        if options.baseline is None:
            raise
        return Side("working tree", None, _ROOT)  # --baseline needs no git history
    dirty = is_dirty(repo)
    label = "working tree" + (" (uncommitted changes)" if dirty else "")
    return Side(label, resolve(repo, "HEAD"), _ROOT)


def _slowed(head: Side, fraction: float) -> Side:
    """The head, its engines slowed by `fraction` in every run (`bench run
    --inject-slowdown`): the proof that the gate catches a slowdown."""
    check_fraction(fraction)
    label = f"{head.label} + {fraction:.0%} injected slowdown"
    return dataclasses.replace(head, label=label, slowdown=fraction)


def _base(options: GateOptions, stack: contextlib.ExitStack) -> Side:
    repo = repo_root(_ROOT)
    if options.base is not None:
        label, commit = options.base, resolve(repo, options.base)
    else:
        label, commit = default_base(repo)
    return Side(label, commit, stack.enter_context(checked_out(repo, commit)))


def _stored(path: Path, settings: GateSettings, console: Console) -> tuple[Series, GateSettings]:
    """The stored suite's values at the gate's size, and the settings at the suite's run length.

    The file is the user's argument: anything wrong with it is a BenchError naming
    --baseline, raised before any run (exit 2, no report).
    """
    try:
        suite = load_suite_file(path)
    except BenchError as error:
        raise BenchError(f"--baseline: {error}") from None
    values = suite_values(suite)
    cpu = values.get(TIMING_METRICS[0], {})
    sizes = sorted({agents for _, agents in cpu})
    missing = [mode for mode in settings.modes if (mode, settings.agents) not in cpu]
    if missing:
        raise BenchError(
            f"--baseline {path} has no {settings.agents}-agent runs of {', '.join(missing)} (it "
            f"has agents {', '.join(map(str, sizes)) or 'none'}); pass --agents N with one of them"
        )
    duration = _stored_duration(suite, path)
    if duration is not None:
        settings = dataclasses.replace(settings, duration=duration)
        console.print(f"runs last {settings.duration:g} s, as in the stored suite")
    stored: Series = {
        mode: {p: list(values.get(p, {}).get((mode, settings.agents), [])) for p in TIMING_METRICS}
        for mode in settings.modes
    }
    return stored, settings


def _stored_duration(suite: pyperf.BenchmarkSuite, path: Path) -> float | None:
    """The one run length of the stored suite, None when its runs disagree or do not say."""
    durations = {
        run.get_metadata().get("workload_duration_s")
        for benchmark in suite.get_benchmarks()
        for run in benchmark.get_runs()
    } - {None}
    if len(durations) != 1:
        return None
    duration = durations.pop()
    number = isinstance(duration, int | float) and not isinstance(duration, bool)
    if not number or not 0 < duration < math.inf:
        raise BenchError(
            f"--baseline {path}: its runs' workload_duration_s must be a number of seconds > 0, "
            f"got {duration!r}"
        )
    return float(duration)


def _validate(
    options: GateOptions, settings: GateSettings, runs_dir: Path, console: Console
) -> int:
    repo = repo_root(_ROOT)
    tree = Side("working tree", resolve(repo, "HEAD"), _ROOT)
    fraction = 0.15 if options.inject_slowdown is None else options.inject_slowdown
    check_fraction(fraction)  # before the A/A gates, not after them
    family = options.validate_family
    document: dict[str, Any] = {}
    markdown = "# Gate validation\n"
    status = 0
    if family in ("all", "instructions"):
        found = instruction_validation.run_instruction_validation(
            _ROOT, settings, options.validate_repeats, console
        )
        result = instruction_validation.summary(found)
        document["instructions"] = result
        markdown += "\n" + instruction_validation.as_markdown(result)
        status |= 0 if instruction_validation.passed(result) else 1
    if family in ("all", "timing"):
        timing = validate.run_validation(
            tree, settings, options.validate_runs, fraction, runs_dir, console
        )
        document |= validate.as_json(timing)
        markdown += "\n" + validate.as_markdown(timing)
        status |= validate.exit_status(validate.summary(timing))
    out = options.results_dir
    write_json_atomic(out / "gate-validate.json", document)
    write_text_atomic(out / "gate-validate.md", markdown)
    Console(quiet=options.quiet).print(markdown)
    console.print(f"written: {out / 'gate-validate.md'}, {out / 'gate-validate.json'}")
    return status
