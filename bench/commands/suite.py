"""`python -m bench suite` (what `make bench` runs): the matrix, repeated and interleaved.

Each run is a fresh worker process; results become a pyperf suite (`results/latest.json`
plus a copy named with the time and commit), a Markdown table (`results/latest.md`) and
the raw run documents (`results/runs/suite-<time>-<commit>/`). `latest.*` are replaced
only when the whole suite has finished.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bench.environment import collect_meta
from bench.errors import BenchError
from bench.result_file import check_writable, write_text_atomic
from bench.suite.machine import noise_warnings, read_machine_state
from bench.suite.matrix import Matrix, interleaved, make_matrix
from bench.suite.pyperf_suite import build_suite, dump_atomic
from bench.suite.table import MetricTable, format_row, metric_tables, render_markdown
from bench.suite.worker import WorkerConfig, WorkerFailed, run_worker

_STARTUP_ESTIMATE_S = 2.0  # interpreter start, setup and checkpoints around each run


@dataclass(frozen=True, slots=True)
class SuiteOptions:
    """The command line of `bench suite`, before it is checked."""

    profile: str = "default"
    modes: list[str] | None = None
    agents: list[int] | None = None
    duration: float | None = None
    repeat: int | None = None
    results_dir: Path = Path("results")
    quiet: bool = False


@dataclass(slots=True)
class _Outcome:
    documents: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    interrupted: bool = False


def suite_command(options: SuiteOptions) -> int:
    """Run the suite; 0 = all runs done, 1 = some runs failed, 130 = interrupted."""
    matrix = make_matrix(
        options.profile,
        modes=options.modes,
        agents=options.agents,
        duration=options.duration,
        repeat=options.repeat,
    )
    out_dir = options.results_dir
    check_writable(out_dir / "latest.json")
    console = Console(stderr=True, quiet=options.quiet)
    meta = collect_meta(loop="asyncio", clock="real")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{(meta['commit'] or 'nocommit')[:10]}"
    suite_meta = _suite_meta(matrix, console)
    suite_meta["runs_dir"] = f"runs/suite-{name}"  # relative to the suite's JSON; for the report
    started = time.monotonic()
    outcome = _run_all(matrix, out_dir / suite_meta["runs_dir"], console)
    suite_meta["suite_elapsed_s"] = round(time.monotonic() - started, 1)
    suite_meta["suite_complete"] = not outcome.interrupted
    _write(outcome, matrix, suite_meta, out_dir, name, console)
    for failure in outcome.failures:
        console.print(f"[red]failed:[/red] {failure}")
    if outcome.interrupted:
        return 130
    return 1 if outcome.failures else 0


def _suite_meta(matrix: Matrix, console: Console) -> dict[str, Any]:
    state = read_machine_state()
    for warning in noise_warnings(state):
        console.print(f"[yellow]warning:[/yellow] {warning}")
    return {
        "suite_profile": matrix.profile,
        "suite_repeat": matrix.repeat,
        "cpu_busy_before_percent": state.cpu_busy_percent,
        "load_1min_before": state.load_1min if state.load_1min is not None else -1.0,
        "cpu_governor": state.governor or "unknown",
        "pyperf_system_advice": state.pyperf_advice or "none",
        "noise_warnings": len(noise_warnings(state)),
    }


def _run_all(matrix: Matrix, runs_dir: Path, console: Console) -> _Outcome:
    order = interleaved(matrix)
    outcome = _Outcome()
    weight = matrix.duration + _STARTUP_ESTIMATE_S
    with _progress(console) as progress:
        bar = progress.add_task("suite", total=len(order) * weight, info="")
        try:
            for config, repeat in order:
                progress.update(bar, info=f"{config.label} #{repeat + 1}")
                _run_one(config, runs_dir / f"{config.label}-r{repeat + 1}.json", outcome)
                progress.advance(bar, weight)
                if not console.is_terminal:
                    console.print(f"done {config.label} #{repeat + 1}")
        except KeyboardInterrupt:
            outcome.interrupted = True
    return outcome


def _run_one(config: WorkerConfig, out: Path, outcome: _Outcome) -> None:
    try:
        document = run_worker(config, out.resolve(), timeout=config.duration * 4 + 300)
    except (WorkerFailed, BenchError) as error:
        outcome.failures.append(str(error))
        return
    if document.get("interrupted"):
        raise KeyboardInterrupt  # the worker was stopped by the user's Ctrl-C too
    outcome.documents.append(document)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("remaining"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )


def _write(
    outcome: _Outcome,
    matrix: Matrix,
    suite_meta: dict[str, Any],
    out_dir: Path,
    name: str,
    console: Console,
) -> None:
    suite = build_suite(outcome.documents, suite_meta)
    if suite is None:
        console.print("[red]no run finished: nothing written[/red]")
        return
    dump_atomic(suite, out_dir / f"{name}.json")
    tables = metric_tables(outcome.documents, matrix.modes, matrix.agents)
    markdown = _markdown(matrix, suite_meta, outcome, tables)
    write_text_atomic(out_dir / f"{name}.md", markdown)
    if not outcome.interrupted:
        dump_atomic(suite, out_dir / "latest.json")
        write_text_atomic(out_dir / "latest.md", markdown)
    Console(quiet=console.quiet).print(*(_rich_table(t) for t in tables))
    where = out_dir / ("latest.json" if not outcome.interrupted else f"{name}.json")
    console.print(f"pyperf suite written to {where} (and {out_dir / name}.json)")


def _markdown(
    matrix: Matrix, suite_meta: dict[str, Any], outcome: _Outcome, tables: list[MetricTable]
) -> str:
    first = outcome.documents[0]["meta"]
    header = [
        f"# Benchmark suite `{matrix.profile}`",
        "",
        f"Commit `{first['commit']}`{' (dirty)' if first['dirty'] else ''}, "
        f"{first['cpu_model']}, {first['cores']} cores, Python {first['python']}, "
        f"loop {first['loop']}, clock {first['clock']}; started {first['started_at']}.",
        f"{len(outcome.documents)} runs ({matrix.repeat} per configuration, interleaved, "
        f"each in a fresh process), {matrix.duration:g} s each; suite took "
        f"{suite_meta['suite_elapsed_s']:g} s. Cells: median ± MAD of the repeats.",
    ]
    if outcome.interrupted:
        header.append("**Interrupted: partial results.**")
    if outcome.failures:
        header.append(f"**{len(outcome.failures)} runs failed.**")
    return "\n".join(header) + "\n\n" + render_markdown(tables)


def _rich_table(table: MetricTable) -> Table:
    rich_table = Table(title=f"{table.metric.label} ({table.metric.unit})", title_justify="left")
    for column in ["agents", *table.modes, *table.ratio_names]:
        rich_table.add_column(column, justify="right")
    for row in table.rows:
        rich_table.add_row(*format_row(table, row))
    return rich_table
