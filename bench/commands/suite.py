"""`python -m bench suite` (what `make bench` runs): the matrix, repeated and interleaved.

Each run is a fresh worker process; results become a pyperf suite (`results/latest.json`
plus a copy named with the time and commit), a Markdown table (`results/latest.md`) and
the raw run documents (`results/runs/suite-<time>-<commit>/`). After the timed runs,
never beside them, each mode's instructions per generation are counted under valgrind at
one small size (bench/suite/instructions.py; without valgrind, a warning and no count).
`latest.*` are replaced only when the whole suite has finished: Ctrl-C or SIGTERM (a CI
timeout) stop the running worker and keep the runs so far in the copies named with the
time and commit.
"""

from __future__ import annotations

import datetime
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bench.cost.valgrind import find_valgrind, valgrind_version
from bench.environment import collect_meta
from bench.errors import BenchError
from bench.result_file import check_writable, write_json_atomic, write_text_atomic
from bench.stopping import EXIT_STATUS, sigterm_stops, stop_signal
from bench.suite.instructions import (
    SUITE_AGENTS,
    child_run,
    describe,
    instruction_agents,
    measure_each,
    suite_record,
)
from bench.suite.layout import LOCAL
from bench.suite.machine import noise_warnings, read_machine_state
from bench.suite.matrix import Matrix, interleaved, make_matrix, repeated_notes
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
    instructions: bool = True
    gc: str = "default"


@dataclass(slots=True)
class _Outcome:
    documents: list[dict[str, Any]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)
    """The instruction counts' records (bench.suite.instructions.suite_record)."""
    failures: list[str] = field(default_factory=list)
    stopped_by: signal.Signals | None = None

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None


def suite_command(options: SuiteOptions) -> int:
    """Run the suite; 0 = all runs done, 1 = some runs failed or a file could not be written,
    130 = interrupted (Ctrl-C), 143 = terminated (SIGTERM, what CI timeouts send)."""
    matrix = make_matrix(
        options.profile,
        modes=options.modes,
        agents=options.agents,
        duration=options.duration,
        repeat=options.repeat,
        gc=options.gc,
    )
    out_dir = options.results_dir
    check_writable(out_dir / "latest.json", "--results-dir")
    console = Console(stderr=True, quiet=options.quiet)
    for note in repeated_notes(options.modes, options.agents):
        console.print(f"note: {escape(note)}")
    meta = collect_meta(loop="asyncio", clock="real")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{(meta['commit'] or 'nocommit')[:10]}"
    valgrind = _valgrind(console) if options.instructions else None
    counter = _Counter(valgrind, meta["commit"]) if valgrind is not None else None
    outcome, suite_meta = _measure(matrix, out_dir, name, console, counter)
    return _finish(outcome, matrix, suite_meta, out_dir, name, console)


@dataclass(frozen=True, slots=True)
class _Counter:
    """What counting instructions needs: valgrind, and the commit the records name."""

    valgrind: str
    commit: str | None


def _valgrind(console: Console) -> str | None:
    """The valgrind executable; None, with a warning, when it is missing: the suite goes on."""
    try:
        return find_valgrind()
    except BenchError as error:
        console.print(
            f"[yellow]warning:[/yellow] {escape(str(error))}; the suite goes on without "
            "instructions per generation"
        )
        return None


def _measure(
    matrix: Matrix, out_dir: Path, name: str, console: Console, counter: _Counter | None = None
) -> tuple[_Outcome, dict[str, Any]]:
    """Sample the machine, run every configuration, then count instructions; a stop keeps
    the runs so far."""
    outcome = _Outcome()
    suite_meta: dict[str, Any] = {"runs_dir": f"runs/suite-{name}"}  # relative to the JSON
    runs_dir = out_dir / suite_meta["runs_dir"]
    started = time.monotonic()
    timed: float | None = None  # seconds of the timed runs, once they are all done
    try:
        with sigterm_stops():
            suite_meta |= _suite_meta(matrix, console)
            started = time.monotonic()
            _run_all(matrix, runs_dir, console, outcome)
            timed = time.monotonic() - started
            if counter is not None:
                _count_all(matrix, counter, runs_dir, console, outcome)
                suite_meta["instructions_elapsed_s"] = round(time.monotonic() - started - timed, 1)
                console.print(f"counted in {suite_meta['instructions_elapsed_s']:g} s")
    except KeyboardInterrupt as stop:
        outcome.stopped_by = stop_signal(stop)
    suite_meta["suite_elapsed_s"] = round(time.monotonic() - started if timed is None else timed, 1)
    suite_meta["suite_complete"] = not outcome.interrupted
    return outcome, suite_meta


def _finish(
    outcome: _Outcome,
    matrix: Matrix,
    suite_meta: dict[str, Any],
    out_dir: Path,
    name: str,
    console: Console,
) -> int:
    """Write the files, then say what failed or stopped the suite (even with --quiet)."""
    alerts = Console(stderr=True, soft_wrap=True)  # one line each, however long
    problem = _write(outcome, matrix, suite_meta, out_dir, name, console)
    for failure in outcome.failures:
        alerts.print(f"[red]failed:[/red] {escape(failure)}")
    if problem is not None:
        runs = out_dir / suite_meta["runs_dir"]
        alerts.print(f"[red]error:[/red] {escape(problem)}; the run documents are kept in {runs}")
    if outcome.stopped_by is not None:
        total = matrix.runs
        line = _stop_line(outcome.stopped_by, outcome, total, out_dir / name, problem is None)
        alerts.print(escape(line))
        return EXIT_STATUS[outcome.stopped_by]
    if not outcome.documents:
        alerts.print("[red]no run finished: nothing written[/red]")
    return 1 if outcome.failures or problem is not None else 0


def _stop_line(
    stopped_by: signal.Signals, outcome: _Outcome, total: int, stem: Path, written: bool
) -> str:
    stopped = f"stopped by {stopped_by.name}"
    kept = f"{stem.with_name('latest')}.* left as they were"
    if not outcome.documents:
        return f"{stopped} with no run finished: nothing written; {kept}"
    done = len(outcome.documents) + len(outcome.failures)
    where = f": the runs so far are in {stem}.json and .md" if written else ""
    return f"{stopped} after {done} of {total} runs{where}; {kept}"


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


def _run_all(matrix: Matrix, runs_dir: Path, console: Console, outcome: _Outcome) -> None:
    order = interleaved(matrix)
    weight = matrix.duration + _STARTUP_ESTIMATE_S
    with _progress(console) as progress:
        bar = progress.add_task("suite", total=len(order) * weight, info="")
        for config, repeat in order:
            run = f"{config.label} #{repeat + 1}"
            progress.update(bar, info=run)
            done = _run_one(config, runs_dir / f"{config.label}-r{repeat + 1}.json", outcome)
            progress.advance(bar, weight)
            if not console.is_terminal:
                console.print(f"{'done' if done else 'failed'} {run}")


def _count_all(
    matrix: Matrix, counter: _Counter, runs_dir: Path, console: Console, outcome: _Outcome
) -> None:
    """Each mode's instructions per generation at the suite's smallest size, at most
    SUITE_AGENTS; each record kept in runs_dir/instructions/, a failure as a failed run."""
    agents = instruction_agents(min(matrix.agents), SUITE_AGENTS)
    modes = ", ".join(matrix.modes)
    console.print(
        f"counting instructions per generation under valgrind: {modes}, {describe(agents)}"
    )
    version = valgrind_version(counter.valgrind)
    children = [child_run(mode, agents) for mode in matrix.modes]
    for counted in measure_each(children, counter.valgrind):
        record = suite_record(counted, version, counter.commit)
        label = f"{counted.child.mode}-{agents}"
        try:
            write_json_atomic(runs_dir / "instructions" / f"{label}.json", record)
        except (OSError, BenchError) as error:
            console.print(f"[yellow]warning:[/yellow] instructions {label} not kept: {error}")
        if counted.error is not None:
            outcome.failures.append(f"instructions {label}: {counted.error}")
        else:
            outcome.counts.append(record)


_VIRTUAL_S_PER_AGENT_SECOND = 1e-3
"""Wall seconds a virtual-clock run may take per agent per second of virtual time: about
3x the 15 s of CPU that 2,500 agents x 20 s took (the scale profile's reference runs)."""


def _timeout(config: WorkerConfig) -> float:
    """How long a worker may take: a real-clock run its duration and set-up; a virtual-clock
    run is CPU-bound, so in proportion to its agents too."""
    if config.clock == "virtual":
        return config.agents * config.duration * _VIRTUAL_S_PER_AGENT_SECOND + 300
    return config.duration * 4 + 300


def _run_one(config: WorkerConfig, out: Path, outcome: _Outcome) -> bool:
    """Run one worker; True if its document was recorded, False if it failed."""
    try:
        document = run_worker(config, out.resolve(), timeout=_timeout(config))
    except (WorkerFailed, BenchError) as error:
        outcome.failures.append(str(error))
        return False
    if document.get("interrupted"):
        raise KeyboardInterrupt  # the worker was stopped by the user's Ctrl-C too
    outcome.documents.append(document)
    return True


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
) -> str | None:
    """Print the tables and write the suite's files; None, or why a file was not written."""
    suite = build_suite(outcome.documents, suite_meta, outcome.counts)
    if suite is None or not outcome.documents:  # instruction counts alone make no suite
        return None
    tables = metric_tables(outcome.documents, matrix.columns, matrix.agents, counts=outcome.counts)
    markdown = _markdown(matrix, suite_meta, outcome, tables)
    Console(quiet=console.quiet).print(*(_rich_table(t) for t in tables))
    writers: list[tuple[Path, Callable[[Path], None]]] = []
    for stem in [name] if outcome.interrupted else [name, "latest"]:
        writers.append((out_dir / f"{stem}.json", partial(dump_atomic, suite)))
        writers.append((out_dir / f"{stem}.md", partial(write_text_atomic, text=markdown)))
    problem = _save(writers)
    if problem is None and not outcome.interrupted:
        latest, copy = out_dir / "latest.json", out_dir / f"{name}.json"
        console.print(f"pyperf suite written to {latest} (and {copy})")
    return problem


def _save(writers: list[tuple[Path, Callable[[Path], None]]]) -> str | None:
    """Write each file in turn; at the first failure, stop and say which file and why."""
    for path, write in writers:
        try:
            write(path)
        except OSError as error:  # a full disk, a folder gone: the runs are kept regardless
            return f"cannot write {path}: {error.strerror or error}"
        except BenchError as error:  # e.g. latest.md turned into a pipe meanwhile
            return str(error)
    return None


def _markdown(
    matrix: Matrix, suite_meta: dict[str, Any], outcome: _Outcome, tables: list[MetricTable]
) -> str:
    first = outcome.documents[0]["meta"]
    # The clocks of every run, in order: a scale suite's references are virtual, the rest real.
    clocks = " and ".join(dict.fromkeys(d["meta"]["clock"] for d in outcome.documents))
    header = [
        f"# Benchmark suite `{matrix.profile}`",
        "",
        f"Commit `{first['commit']}`{' (dirty)' if first['dirty'] else ''}, "
        f"{first['cpu_model']}, {first['cores']} cores, Python {first['python']}, "
        f"loop {first['loop']}, clock {clocks}, gc {matrix.gc}; started {first['started_at']}.",
        f"{len(outcome.documents)} runs ({matrix.repeat} per configuration, interleaved, "
        f"each in a fresh process), {matrix.duration:g} s each; suite took "
        f"{suite_meta['suite_elapsed_s']:g} s. Cells: median ± MAD of the repeats.",
    ]
    if matrix.layouts != (LOCAL,):
        header.append(
            "Layouts: "
            + "; ".join(f"`{layout.tag or 'local'}` = {layout.words}" for layout in matrix.layouts)
            + ". A column `<mode>@<layout>` is the mode in that layout."
        )
    if matrix.references:
        floor = matrix.references[0].mode
        header.append(
            f"`{floor}@virtual`: one run of {floor} per size on the virtual clock, the "
            "physics' reference (exact, so run once)."
        )
    if outcome.counts:
        block = outcome.counts[0]["metrics"]["instructions"]
        what = describe(block["agents"], block["warmup_s"], block["duration_s"])
        header.append(
            f"Instructions per generation: one count per mode under {block['valgrind']} after "
            f"the timed runs ({what}; took {suite_meta.get('instructions_elapsed_s', 0):g} s)."
        )
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
