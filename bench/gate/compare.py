"""One gate comparison: run both sides (or the head against a stored suite) and judge.

Composes the pieces: run folders from `sides`, the interleaved plan and the workers from
`measure`, the decisions from `checks`, and the verdict as a GateReport.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.environment import collect_meta
from bench.errors import BenchError
from bench.gate import checks
from bench.gate.checks import EXIT_CANNOT_RUN, Series
from bench.gate.instructions import instruction_family
from bench.gate.measure import BASE, HEAD, Measurements, Planned, SideFailed, measure, plan
from bench.gate.report import GateReport
from bench.gate.settings import GateSettings
from bench.gate.sides import Side, run_folder

EXIT_INTERRUPTED = 130


def compare_sides(
    base: Side, head: Side, settings: GateSettings, runs_dir: Path, console: Console
) -> GateReport:
    """Measure base and head side by side with the head's harness, and judge the head."""
    started = time.monotonic()
    report = _report("paired", base, head, settings)
    runs = plan(settings, head_slowdown=head.slowdown)
    counted: list[checks.Check] = []

    def instructions(folders: dict[str, Path]) -> None:
        family, notes = instruction_family(settings, folders, console, head.slowdown)
        counted.extend(family)
        report.notes.extend(notes)

    sides = {BASE: base, HEAD: head}
    found = _run(report, runs, sides, head, settings, runs_dir, console, first=instructions)
    if found is None:
        return _elapsed(report, started)
    report.checks = (
        checks.deterministic_checks(found.deterministic[BASE], found.deterministic[HEAD], settings)
        + counted
        + checks.timing_checks(found.timing[BASE], found.timing[HEAD], settings)
        + checks.relation_checks(found.timing[BASE], found.timing[HEAD], settings)
    )
    return _finish(report, found, started)


def compare_with_baseline(
    stored: Series, label: str, head: Side, settings: GateSettings, runs_dir: Path, console: Console
) -> GateReport:
    """Measure the head alone and compare it with a stored suite's values (unpaired)."""
    started = time.monotonic()
    report = _report("baseline", Side(label, None, Path()), head, settings)
    report.notes.append(
        "compared with a stored suite, not with the base measured here: machine state and "
        "time differ, so this is less reliable than a paired gate; deterministic counts "
        "are not compared (a stored suite has no virtual-clock runs)"
    )
    runs = plan(settings, (HEAD,), deterministic=False, head_slowdown=head.slowdown)
    found = _run(report, runs, {HEAD: head}, head, settings, runs_dir, console)
    if found is None:
        return _elapsed(report, started)
    report.checks = checks.timing_checks(
        stored, found.timing[HEAD], settings, paired=False
    ) + checks.relation_checks(stored, found.timing[HEAD], settings, paired=False)
    return _finish(report, found, started)


def cannot_run(
    reason: str, settings: GateSettings, base: Side | None, head: Side | None
) -> GateReport:
    """A report that says why the gate could not run (exit 2)."""
    return _cannot(_report("paired", base, head, settings), reason)


def _cannot(report: GateReport, reason: str) -> GateReport:
    report.status, report.exit_code, report.reason = "cannot_run", EXIT_CANNOT_RUN, reason
    return report


def _report(
    comparison: str, base: Side | None, head: Side | None, settings: GateSettings
) -> GateReport:
    meta = collect_meta(loop="asyncio", clock="real")
    machine = {
        key: meta.get(key) for key in ("cpu_model", "cores", "python", "platform", "started_at")
    }
    return GateReport(
        status="pass",
        exit_code=0,
        comparison=comparison,
        base=_side_data(base),
        head=_side_data(head),
        settings=settings.as_dict(),
        machine={k: v for k, v in machine.items() if v is not None},
    )


def _side_data(side: Side | None) -> dict[str, Any]:
    return {} if side is None else {"label": side.label, "commit": side.commit}


def _run(
    report: GateReport,
    runs: list[Planned],
    sides: dict[str, Side],
    harness: Side,
    settings: GateSettings,
    runs_dir: Path,
    console: Console,
    first: Callable[[dict[str, Path]], None] = lambda folders: None,
) -> Measurements | None:
    """Run `first` (the instruction family), then the plan, with `harness`'s bench/ against
    each side's engine; None when it failed.

    A failure is marked on the report: the base failing means the comparison could not run
    (exit 2), the head failing is a regression (exit 1).
    """
    try:
        with contextlib.ExitStack() as stack:
            folders = {
                name: stack.enter_context(run_folder(harness.source, side.source))
                for name, side in sides.items()
            }
            try:
                first(folders)
            except KeyboardInterrupt:
                return Measurements(interrupted=True)
            with _progress(console, runs) as advance:
                return measure(runs, folders, runs_dir, settings, on_done=advance)
    except SideFailed as failure:
        if failure.side == BASE:
            reason = (
                "the base could not run the head's harness (its engine may lack an API the "
                f"harness needs): {failure}"
            )
            _cannot(report, reason)
        else:
            report.status, report.exit_code = "regression", checks.EXIT_REGRESSION
            report.reason = f"the head failed to run the workload: {failure}"
    except BenchError as error:  # e.g. a side without cascade/
        _cannot(report, str(error))
    return None


def _elapsed(report: GateReport, started: float) -> GateReport:
    report.elapsed_s = time.monotonic() - started
    return report


def _finish(report: GateReport, found: Measurements, started: float) -> GateReport:
    report.runs = found.runs
    report.elapsed_s = time.monotonic() - started
    if found.interrupted:
        report.status, report.exit_code = "interrupted", EXIT_INTERRUPTED
        report.reason = f"stopped after {found.runs} runs; the checks use what was measured"
        return report
    report.exit_code = checks.exit_status(report.checks)
    report.status = "regression" if report.exit_code else "pass"
    return report


@contextlib.contextmanager
def _progress(console: Console, runs: list[Planned]) -> Iterator[Any]:
    progress = Progress(
        TextColumn("gate"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("remaining"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )
    with progress:
        bar = progress.add_task("gate", total=sum(p.weight for p in runs), info="")

        def advance(planned: Planned) -> None:
            progress.advance(bar, planned.weight)
            text = f"{planned.side} {planned.config.label} {planned.family} #{planned.index + 1}"
            progress.update(bar, info=text)
            if not console.is_terminal:
                console.print(f"done {text}")

        yield advance
