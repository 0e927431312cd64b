"""`python -m bench run`: one firefly run of one mode, written as a result document."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

import cascade as cs
from bench.broker import AUTO, broker_for, check_broker_option, parse_url
from bench.collector import check_gc_mode
from bench.cost.valgrind import find_valgrind, valgrind_version
from bench.errors import BenchError
from bench.loops import check_loop
from bench.metrics import INSTRUCTIONS
from bench.probes.loop_lag import HIGHEST_SECONDS, MAX_INTERVAL_SECONDS
from bench.result_file import check_writable, write_json_or_keep
from bench.runner import RunSpec, execute
from bench.schema import status_of
from bench.shard.coordinator import run_swarm
from bench.suite.instructions import (
    child_run,
    describe,
    instruction_agents,
    instructions_block,
    measure_each,
)
from bench.summary import format_value, stall_rows, summary_rows
from bench.transport import check_transport
from bench.workload import check_memory, get_mode, make_config

RUNS_DIR = Path("results/runs")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The command line of `bench run`, before it is checked."""

    mode: str = "shared"
    agents: int | None = None
    grid_side: int | None = None
    period: float = 5.0
    nudge: float = 0.2
    duration: float = 20.0
    seed: int = 1
    clock: str = "real"
    loop: str = "asyncio"
    lag_interval: float = 0.010
    trace_python: bool = False
    out: Path | None = None
    quiet: bool = False
    objects_interval: float | None = None
    inject_slowdown: float | None = None
    transport: str = "local"
    broker: str | None = None
    workers: int | None = None
    shard: str | None = None
    start_at: float | None = None
    sync_stdin: bool = False
    delivery: bool | None = None
    stalls: bool = True
    stall_threshold_ms: float = 20.0
    gc: str = "default"
    engine: str | None = None
    instructions: bool = False


def build_spec(options: RunOptions) -> RunSpec:
    """Check every option (BenchError on the first bad one) and build the run's spec.

    With --workers the spec is the whole swarm's; the coordinator derives each shard's.
    """
    get_mode(options.mode)
    check_loop(options.loop, options.clock)
    check_transport(options.transport)
    check_lag_interval(options.lag_interval)
    interval = options.objects_interval
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise BenchError(f"--objects-interval must be a number of seconds > 0, got {interval}")
    config = make_config(
        agents=options.agents,
        grid_side=options.grid_side,
        period=options.period,
        nudge=options.nudge,
        duration=options.duration,
        seed=options.seed,
    )
    check_memory(options.mode, config.agents)
    if options.inject_slowdown is not None:
        check_slowdown(options.inject_slowdown)
    shard = check_sharding(options, config.side)
    zones = shard[1] if shard is not None else options.workers
    if zones is not None:
        config = dataclasses.replace(config, zones=zones)
    delivery = options.transport == "mqtt" if options.delivery is None else options.delivery
    threshold = options.stall_threshold_ms
    if not (math.isfinite(threshold) and threshold > 0):
        raise BenchError(f"--stall-threshold must be a number of milliseconds > 0, got {threshold}")
    check_gc_mode(options.gc)
    return RunSpec(
        options.mode,
        config,
        clock=options.clock,
        loop=options.loop,
        lag_interval=options.lag_interval,
        trace_python=options.trace_python,
        objects_interval=options.objects_interval,
        inject_slowdown=options.inject_slowdown,
        transport=options.transport,
        broker=options.broker,
        shard=shard,
        start_at=options.start_at,
        sync_stdin=options.sync_stdin,
        delivery=delivery,
        stalls=options.stalls,
        stall_threshold=threshold / 1000,
        gc=options.gc,
    )


def check_sharding(options: RunOptions, side: int) -> tuple[int, int] | None:
    """Refuse options that cannot carry a swarm; this process's (shard, count), if any.

    The broker is checked last (is mosquitto installed, does the URL answer), once every
    option is known to make sense.
    """
    mqtt = options.transport == "mqtt"
    if options.broker is not None and not mqtt:
        raise BenchError("--broker is for --transport mqtt; add --transport mqtt")
    if mqtt and options.broker is None:
        raise BenchError("--transport mqtt needs a broker: give --broker auto or mqtt://host:port")
    if options.broker not in (None, AUTO):
        parse_url(options.broker)
    if options.workers is not None and options.shard is not None:
        raise BenchError(
            "give --workers (run the whole swarm here) or --shard (one part), not both"
        )
    shard = None if options.shard is None else parse_shard(options.shard)
    count = options.workers if shard is None else shard[1]
    if count is not None:
        _check_count("--workers" if shard is None else "--shard", count, options, side)
    if shard is not None and options.broker == AUTO:
        raise BenchError(
            "--shard joins a swarm's broker, which every shard must share: "
            "give --broker mqtt://host:port"
        )
    if options.broker is not None:
        check_broker_option(options.broker)
    return shard


def _check_count(option: str, count: int, options: RunOptions, side: int) -> None:
    if options.transport != "mqtt":
        raise BenchError(f"{option} needs --transport mqtt: processes talk through a broker")
    if options.clock != "real":
        raise BenchError(
            f"{option} needs the real clock: a virtual clock cannot be shared across "
            "processes; use --clock real, or a single process for --clock virtual"
        )
    if not 1 <= count <= side:
        raise BenchError(
            f"{option} must be between 1 and the grid's {side} rows (each worker carries whole "
            f"rows), got {count}"
        )


def parse_shard(text: str) -> tuple[int, int]:
    """`i/n` -> (i, n) with 0 <= i < n; BenchError otherwise."""
    index, _, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = (-1, 0)
    if not 0 <= shard[0] < shard[1]:
        raise BenchError(f"--shard must be i/n with 0 <= i < n, e.g. 0/2, got {text!r}")
    return shard


def check_slowdown(fraction: float) -> None:
    """Refuse a bad fraction, or an engine without the instruments the slowdown needs."""
    if not hasattr(cs, "add_instrument"):
        raise BenchError(
            "--inject-slowdown needs an engine with instruments (cascade.add_instrument); "
            f"the engine at {Path(cs.__file__).parent} has none"
        )
    from bench.slowdown import check_fraction

    check_fraction(fraction)


def check_lag_interval(interval: float) -> None:
    """Refuse an interval the loop-lag probe cannot record: its histograms hold two of them."""
    if not (math.isfinite(interval) and 0 < interval <= MAX_INTERVAL_SECONDS):
        raise BenchError(
            f"--lag-interval must be in (0, {MAX_INTERVAL_SECONDS:g}] seconds (the loop-lag "
            f"probe records lags up to {HIGHEST_SECONDS:g} s, which must hold two intervals), "
            f"got {interval}"
        )


def default_out(spec: RunSpec) -> Path:
    """results/runs/<UTC time>-<mode>-<agents>.json"""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return RUNS_DIR / f"{stamp}-{spec.mode}-{spec.config.agents}-{spec.clock}.json"


def run_command(options: RunOptions, argv: list[str] | None = None) -> int:
    """Validate, run with a progress bar, write the result, print the summary; 0 or 130.

    1 when the result file could not be written: the run happened and its result was kept
    elsewhere (see `write_json_or_keep`), but not where the user asked.
    """
    spec = build_spec(options)
    out = options.out or default_out(spec)
    check_writable(out)
    if options.engine is not None:  # this command again, on another commit's engine
        from bench.engine_ref import run_with_engine

        return run_with_engine(options.engine, argv, out)
    valgrind = check_instructions(options) if options.instructions else None
    console = Console(stderr=True, quiet=options.quiet)
    if options.workers is not None:
        assert options.broker is not None  # build_spec made sure
        document = run_swarm(spec, options.workers, options.broker, console.print, argv)
    else:
        reporter = (
            _ProgressReporter(console, spec) if console.is_terminal else _LineReporter(console)
        )
        with reporter, _own_broker(spec) as spec:
            document = execute(spec, reporter, argv)
    counted = True
    if valgrind is not None and status_of(document) == "complete":
        counted = add_instructions(document, spec, valgrind, console)
    failure = write_json_or_keep(out, document)
    Console(quiet=options.quiet).print(summary_table(document))
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    status = _report_status(document, out, console)
    return status if counted else 130


def check_instructions(options: RunOptions) -> str:
    """Refuse --instructions where its count would not be of this run's workload (it always
    runs one process over the in-memory broker, on asyncio, at the default period and
    nudge); the valgrind executable, or a BenchError with its install command."""
    defaults = RunOptions()
    if options.transport != "local":
        raise BenchError(
            "--instructions counts one process over the in-memory broker: drop --transport "
            "mqtt (and --workers, --shard), or --instructions"
        )
    if options.loop != "asyncio":
        raise BenchError("--instructions counts the asyncio loop: drop --loop, or --instructions")
    if (options.period, options.nudge) != (defaults.period, defaults.nudge):
        raise BenchError(
            f"--instructions counts the default period ({defaults.period:g} s) and nudge "
            f"({defaults.nudge:g} s): drop --period and --nudge, or --instructions"
        )
    try:
        return find_valgrind()
    except BenchError as error:
        raise BenchError(f"--instructions: {error}") from None


def add_instructions(
    document: dict[str, Any], spec: RunSpec, valgrind: str, console: Console
) -> bool:
    """Count the run's mode under valgrind into `metrics.instructions`, after the run (a
    failed count is noted in `errors.probes`, as a failed probe is); False on Ctrl-C."""
    agents = instruction_agents(spec.config.agents)
    console.print(
        f"counting instructions per generation under valgrind: {spec.mode}, {describe(agents)}"
    )
    child = child_run(spec.mode, agents, spec.config.seed)
    probes = document["errors"]["probes"]
    try:
        (counted,) = measure_each([child], valgrind)
    except KeyboardInterrupt:
        probes["instructions"] = "measure: KeyboardInterrupt: stopped before the count ended"
        return False
    if counted.cost is None:
        probes["instructions"] = f"measure: BenchError: {counted.error}"
    else:
        block = instructions_block(counted.cost, valgrind_version(valgrind))
        document["metrics"]["instructions"] = block
    return True


def _report_status(document: dict[str, Any], out: Path, console: Console) -> int:
    """Say how the run ended and where its result is; the exit status (0, 1 or 130)."""
    status = status_of(document)
    for failure in document["errors"].get("workers", []):
        print(f"error: worker {failure['shard']}: {failure['reason']}", file=sys.stderr)
        if failure["stderr"]:
            print(failure["stderr"], file=sys.stderr)
    if status == "degraded":
        transport = document["metrics"]["transport"]
        print(
            f"warning: the broker connection was lost during the run: {transport['lost']:,} "
            f"publishes lost, {transport.get('undelivered', 0):,} messages undelivered",
            file=sys.stderr,
        )
    state = {
        "complete": "result",
        "degraded": "DEGRADED result",
        "interrupted": "INTERRUPTED, partial result",
        "failed": "FAILED run, partial result",
    }[status]
    console.print(f"{state} written to {out}")
    return {"failed": 1, "interrupted": 130}.get(status, 0)


@contextlib.contextmanager
def _own_broker(spec: RunSpec) -> Iterator[RunSpec]:
    """The spec, pointing at a mosquitto started for it when it says `--broker auto`."""
    if spec.broker is None:
        yield spec
        return
    with broker_for(spec.broker) as (url, _):
        yield dataclasses.replace(spec, broker=url)


def summary_table(document: dict[str, Any]) -> Table:
    """The headline metrics of one run as a rich table."""
    config, meta = document["config"], document["meta"]
    agents, asked = document["metrics"]["work"]["agents"], config["agents"]
    set_up = f"{agents:,}" if agents == asked else f"{agents:,} of {asked:,}"  # set-up stopped
    table = Table(
        title=f"{config['mode']} · {set_up} agents",
        caption=f"{config['duration']:g} s · {meta['clock']} clock · {meta['loop']} loop",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in [*summary_rows(document), *stall_rows(document)]:
        table.add_row(label, value)
    counted = document["metrics"].get("instructions")
    if counted is not None:
        label = f"{INSTRUCTIONS.label} ({counted['agents']:,} agents, valgrind)"
        table.add_row(label, format_value(INSTRUCTIONS.value(document), INSTRUCTIONS.unit))
    errors = document["errors"]
    if document["metrics"]["work"]["agent_errors"]:
        table.add_row("[red]agent errors[/red]", "; ".join(errors["agents"]))
    for probe, error in errors["probes"].items():
        table.add_row(f"[red]probe {probe} failed[/red]", error)
    return table


class _ProgressReporter:
    """Draws agent setup and run progress with rich (stderr, so stdout stays the table)."""

    def __init__(self, console: Console, spec: RunSpec) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=False,
        )
        self._spec = spec
        self._setup: TaskID | None = None
        self._run: TaskID | None = None

    def __enter__(self) -> _ProgressReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def setup(self, done: int, total: int) -> None:
        """Advance the setup bar."""
        if self._setup is None:
            description = f"setting up {self._spec.mode} agents"
            self._setup = self._progress.add_task(description, total=total, info="")
        self._progress.update(self._setup, completed=done)

    def running(self, elapsed: float, duration: float, flashes: int) -> None:
        """Advance the run bar (seconds of the loop's clock)."""
        if self._run is None:
            self._run = self._progress.add_task("running (s)", total=duration, info="")
        self._progress.update(self._run, completed=elapsed, info=f"{flashes:,} flashes")


class _LineReporter:
    """Progress as a few plain lines, for logs and CI where a live bar cannot be drawn."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._next_report = 0.0
        self._set_up = False

    def __enter__(self) -> _LineReporter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def setup(self, done: int, total: int) -> None:
        """Say once when setup is complete (the runner also reports after its last batch)."""
        if done == total and not self._set_up:
            self._console.print(f"set up {total:,} agents")
            self._set_up = True

    def running(self, elapsed: float, duration: float, flashes: int) -> None:
        """One line per tenth of the run."""
        if elapsed >= self._next_report:
            self._console.print(f"running: {elapsed:.0f}/{duration:g} s, {flashes:,} flashes")
            self._next_report = elapsed + duration / 10
