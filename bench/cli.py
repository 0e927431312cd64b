"""The `python -m bench` command line: one typer command per module in bench/commands."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.commands.run import RunOptions, run_command
from bench.errors import BenchError
from bench.loops import CLOCKS, LOOPS
from bench.suite.instructions import DURATION_S, MAX_AGENTS, SUITE_AGENTS, WARMUP_S
from bench.transport import TRANSPORTS
from bench.workload import MODES

# The other commands are imported when used: `bench run` starts every benchmark worker,
# and it should not pay for matplotlib or the profiler's modules.

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Benchmark the cascade engine with the firefly workload.",
)

_Mode = Annotated[str, typer.Option(help=f"How agents are carried: {', '.join(MODES)}.")]
_Agents = Annotated[
    int | None, typer.Option(help="Number of agents, a square (default 2500 = 50x50).")
]
_Side = Annotated[int | None, typer.Option(help="Grid side instead of --agents (side² agents).")]
_Period = Annotated[float, typer.Option(help="Oscillator period, seconds.")]
_Nudge = Annotated[float, typer.Option(help="Phase jump per neighbour flash, seconds; 0 = none.")]
_Duration = Annotated[float, typer.Option(help="Run length after setup, seconds of the clock.")]
_Seed = Annotated[int, typer.Option(help="Seed for initial phases and jitters.")]
_Clock = Annotated[str, typer.Option(help=f"Clock: {', '.join(CLOCKS)} (virtual = fast-forward).")]
_Loop = Annotated[str, typer.Option(help=f"Event loop: {', '.join(LOOPS)}.")]
_Lag = Annotated[float, typer.Option(help="Loop-lag probe interval, seconds.")]


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show a BenchError as one line on stderr, exit status 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


@app.command()
@_user_errors
def run(
    ctx: typer.Context,
    mode: _Mode = "shared",
    agents: _Agents = None,
    grid_side: _Side = None,
    period: _Period = 5.0,
    nudge: _Nudge = 0.2,
    duration: _Duration = 20.0,
    seed: _Seed = 1,
    clock: _Clock = "real",
    loop: _Loop = "asyncio",
    lag_interval: _Lag = 0.010,
    tracemalloc: Annotated[
        bool, typer.Option(help="Also trace Python allocations (distorts timing).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Result file (default results/runs/<time>-<mode>-...).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    objects_interval: Annotated[
        float | None,
        typer.Option(help="Also count gc-tracked objects every N seconds (a soak's trend)."),
    ] = None,
    inject_slowdown: Annotated[
        float | None,
        # The gate's proof that it catches a slowdown (its head side only): not for users.
        typer.Option(hidden=True, help="Slow every engine by this fraction of CPU per generation."),
    ] = None,
    transport: Annotated[
        str, typer.Option(help=f"What carries messages: {', '.join(TRANSPORTS)}.")
    ] = "local",
    broker: Annotated[
        str | None,
        typer.Option(help="MQTT broker: auto (start mosquitto) or mqtt://host:port."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Shard the grid over this many worker processes (mqtt transport)."),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(help="Carry only part i/n of the swarm (one host of several; see docs)."),
    ] = None,
    start_at: Annotated[
        float | None,
        typer.Option(help="Start the agents at this Unix time (the shards of one swarm)."),
    ] = None,
    delivery: Annotated[
        bool | None,
        typer.Option(help="Record message delivery latency (default: on for mqtt)."),
    ] = None,
    sync_stdin: Annotated[
        bool,
        # The coordinator's handshake with its workers: not for users.
        typer.Option(hidden=True, help="Print 'ready' when set up; wait for 'start <time>'."),
    ] = False,
    stalls: Annotated[
        bool,
        typer.Option(help="Find the loop's stalls and name their causes (real clock)."),
    ] = True,
    stall_threshold: Annotated[
        float, typer.Option(help="Milliseconds a loop pass must be late to count as a stall.")
    ] = 20.0,
    gc: Annotated[
        str,
        typer.Option(
            help="The garbage collector while the agents run: default, freeze (gc.freeze() "
            "after set-up) or off-during-run."
        ),
    ] = "default",
    engine: Annotated[
        str | None,
        typer.Option(help="Run on this git ref's engine (cascade/), with this harness."),
    ] = None,
    instructions: Annotated[
        bool,
        typer.Option(
            help="After the run, also count instructions per generation of the mode: a "
            "separate virtual-clock run under valgrind, so it does not disturb the timed run "
            f"(the run's agents, at most {MAX_AGENTS}; {WARMUP_S:g} s, then {DURATION_S:g} s "
            "counted). Needs valgrind."
        ),
    ] = False,
) -> None:
    """Run the firefly workload in one mode and write one JSON result."""
    options = RunOptions(
        mode=mode,
        agents=agents,
        grid_side=grid_side,
        period=period,
        nudge=nudge,
        duration=duration,
        seed=seed,
        clock=clock,
        loop=loop,
        lag_interval=lag_interval,
        trace_python=tracemalloc,
        out=out,
        quiet=quiet,
        objects_interval=objects_interval,
        inject_slowdown=inject_slowdown,
        transport=transport,
        broker=broker,
        workers=workers,
        shard=shard,
        start_at=start_at,
        sync_stdin=sync_stdin,
        delivery=delivery,
        stalls=stalls,
        stall_threshold_ms=stall_threshold,
        gc=gc,
        engine=engine,
        instructions=instructions,
    )
    raise typer.Exit(run_command(options, ctx.obj))  # ctx.obj: main()'s argv, for meta.command


@app.command()
@_user_errors
def merge(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="The result file of every shard.")],
    out: Annotated[Path, typer.Option(help="Where to write the swarm's result.")] = Path(
        "results/runs/swarm.json"
    ),
) -> None:
    """Merge the shards of one swarm (`run --shard i/n` on each host) into one result."""
    from bench.commands.merge import merge_command

    raise typer.Exit(merge_command(files, out, ctx.obj))


@app.command()
@_user_errors
def demo(
    mode: _Mode = "shared",
    agents: _Agents = None,
    grid_side: _Side = None,
    period: _Period = 5.0,
    nudge: _Nudge = 0.2,
    duration: _Duration = 60.0,
    seed: _Seed = 1,
    loop: _Loop = "asyncio",
) -> None:
    """Show the live grid of flashes in this terminal (q or Ctrl-C quits)."""
    from bench.commands.demo import demo_command

    options = RunOptions(
        mode=mode,
        agents=agents,
        grid_side=grid_side,
        period=period,
        nudge=nudge,
        duration=duration,
        seed=seed,
        loop=loop,
    )
    raise typer.Exit(demo_command(options))


@app.command()
@_user_errors
def profile(
    mode: _Mode = "shared",
    agents: _Agents = None,
    grid_side: _Side = None,
    period: _Period = 5.0,
    nudge: _Nudge = 0.2,
    duration: _Duration = 20.0,
    seed: _Seed = 1,
    loop: _Loop = "asyncio",
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Profile two modes one after the other and diff them: A B."),
    ] = None,
    memory: Annotated[
        bool, typer.Option(help="Trace the set-up's allocations with memray instead.")
    ] = False,
    rate: Annotated[int, typer.Option(help="py-spy samples per second.")] = 100,
    idle: Annotated[bool, typer.Option(help="Also sample idle threads (waits).")] = False,
    native: Annotated[bool, typer.Option(help="Also sample C frames (slower).")] = False,
    gil: Annotated[bool, typer.Option(help="Only sample the thread holding the GIL.")] = False,
    flamegraph: Annotated[
        bool, typer.Option(help="Also record py-spy's SVG flame graph (a second run).")
    ] = True,
    top: Annotated[int, typer.Option(help="Rows in each table of functions.")] = 25,
    out_dir: Annotated[Path, typer.Option(help="Where the files go.")] = Path("results/profiles"),
    quiet: Annotated[bool, typer.Option(help="No tables or progress lines.")] = False,
) -> None:
    """Profile one configuration with py-spy (or its set-up with memray): flame graphs, tables."""
    from bench.commands.profile import ProfileOptions, profile_command
    from bench.profiling import Sampling

    run_options = RunOptions(
        mode=mode,
        agents=agents,
        grid_side=grid_side,
        period=period,
        nudge=nudge,
        duration=duration,
        seed=seed,
        loop=loop,
    )
    options = ProfileOptions(
        run=run_options,
        compare=compare,
        memory=memory,
        sampling=Sampling(rate=rate, idle=idle, native=native, gil=gil),
        flamegraph=flamegraph,
        top=top,
        out_dir=out_dir,
        quiet=quiet,
    )
    raise typer.Exit(profile_command(options))


@app.command()
@_user_errors
def suite(
    profile: Annotated[str, typer.Option(help="Preset: quick, default, full, scale.")] = "default",
    modes: Annotated[
        str | None, typer.Option(help="Modes, comma/space separated (default: all).")
    ] = None,
    agents: Annotated[
        str | None, typer.Option(help='Agent counts, e.g. "400,900" (default: the profile\'s).')
    ] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds per run.")] = None,
    repeat: Annotated[int | None, typer.Option(help="Runs per configuration.")] = None,
    results_dir: Annotated[Path, typer.Option(help="Where latest.json/.md go.")] = Path("results"),
    quiet: Annotated[bool, typer.Option(help="No progress bar or tables.")] = False,
    instructions: Annotated[
        bool,
        typer.Option(
            help="After the timed runs, count each mode's instructions per generation under "
            f"valgrind (virtual clock, the smallest size, at most {SUITE_AGENTS} agents). "
            "Without valgrind: a warning, no count."
        ),
    ] = True,
    gc: Annotated[
        str,
        typer.Option(
            help="The garbage collector in every run: default, freeze (gc.freeze() after "
            "set-up) or off-during-run; recorded in the suite."
        ),
    ] = "default",
) -> None:
    """Run every mode x size, repeated and interleaved in fresh processes; write pyperf results."""
    from bench.commands.suite import SuiteOptions, suite_command

    options = SuiteOptions(
        profile=profile,
        modes=_words(modes),
        agents=_numbers(agents, "--agents"),
        duration=duration,
        repeat=repeat,
        results_dir=results_dir,
        quiet=quiet,
        instructions=instructions,
        gc=gc,
    )
    raise typer.Exit(suite_command(options))


@app.command()
@_user_errors
def soak(
    ctx: typer.Context,
    minutes: Annotated[float, typer.Option(help="Length of the run, minutes.")] = 30.0,
    mode: _Mode = "shared",
    agents: _Agents = 2500,
    objects_interval: Annotated[
        float, typer.Option(help="Count gc-tracked objects every N seconds.")
    ] = 1.0,
    max_rss_slope: Annotated[
        float, typer.Option(help="Largest RSS slope forgiven over the second half, bytes/s.")
    ] = 1024.0,
    max_objects_growth: Annotated[
        float, typer.Option(help="Largest growth of gc-tracked objects forgiven, a fraction.")
    ] = 0.01,
    results_dir: Annotated[Path, typer.Option(help="Where soak.md/.json go.")] = Path("results"),
    quiet: Annotated[bool, typer.Option(help="No progress bar or tables.")] = False,
) -> None:
    """One long run judged for flat memory: exit 0 flat, 1 grew (see docs/soak.md)."""
    from bench.commands.soak import SoakOptions, soak_command
    from bench.soak import SoakLimits

    options = SoakOptions(
        minutes=minutes,
        mode=mode,
        agents=agents or 2500,
        objects_interval=objects_interval,
        limits=SoakLimits(rss_slope_bytes_per_s=max_rss_slope, objects_growth=max_objects_growth),
        results_dir=results_dir,
        quiet=quiet,
    )
    raise typer.Exit(soak_command(options, ctx.obj))


@app.command()
@_user_errors
def report(
    suites: Annotated[
        list[Path] | None,
        typer.Argument(
            help="pyperf suite(s): one, or OLD NEW to compare (default results/latest.json).",
            metavar="SUITE.json",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option(help="Where report.html, report.md and report_files/ go.")
    ] = Path("results"),
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors.")] = False,
) -> None:
    """Write a report of a suite (or two compared): report.html (self-contained) and report.md."""
    from bench.commands.report import ReportOptions, report_command

    options = ReportOptions(suites=suites or [], out_dir=out_dir, quiet=quiet)
    raise typer.Exit(report_command(options))


@app.command()
@_user_errors
def gate(
    base: Annotated[
        str | None,
        typer.Option(help="Base git ref (default: merge-base with main, else HEAD~1)."),
    ] = None,
    head: Annotated[
        str | None, typer.Option(help="Head git ref (default: the working tree).")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Compare with a stored pyperf suite instead of a base (less reliable)."),
    ] = None,
    agents: Annotated[int | None, typer.Option(help="Agents per timing run.")] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds per timing run.")] = None,
    pairs: Annotated[
        int | None, typer.Option(help="Base/head pairs per mode (at least 5).")
    ] = None,
    modes: Annotated[str | None, typer.Option(help="Modes, comma/space separated.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Regression threshold, a fraction (0.10 = 10%).")
    ] = None,
    confidence: Annotated[float | None, typer.Option(help="Confidence level (0.99).")] = None,
    inject_slowdown: Annotated[
        float | None,
        typer.Option(
            help="Test the gate: slow the head's engines by this fraction of CPU per generation."
        ),
    ] = None,
    validate: Annotated[
        bool, typer.Option("--validate", help="Measure the gate's false alarms and catch rate.")
    ] = False,
    validate_runs: Annotated[int, typer.Option(help="A/A gates in --validate.")] = 3,
    validate_family: Annotated[
        str, typer.Option(help="What --validate checks: all, instructions or timing.")
    ] = "all",
    validate_repeats: Annotated[
        int, typer.Option(help="Instruction-count repeats per mode in --validate.")
    ] = 10,
    results_dir: Annotated[Path, typer.Option(help="Where gate.md/gate.json go.")] = Path(
        "results"
    ),
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
) -> None:
    """Base vs head, side by side: exit 0 pass, 1 regression, 2 could not run (docs/gate.md)."""
    from bench.commands.gate import GateOptions, gate_command

    overrides = {
        "agents": agents,
        "duration": duration,
        "pairs": pairs,
        "modes": _words(modes),
        "threshold": threshold,
        "confidence": confidence,
    }
    options = GateOptions(
        base=base,
        head=head,
        baseline=baseline,
        inject_slowdown=inject_slowdown,
        validate=validate,
        validate_runs=validate_runs,
        validate_family=validate_family,
        validate_repeats=validate_repeats,
        results_dir=results_dir,
        quiet=quiet,
        overrides=overrides,
    )
    raise typer.Exit(gate_command(options))


@app.command()
@_user_errors
def cost(
    ctx: typer.Context,
    mode: _Mode = "shared",
    agents: Annotated[int, typer.Option(help="Number of agents, a square of at least 9.")] = 100,
    duration: Annotated[
        float, typer.Option(help="Seconds of the virtual clock measured, after the warm-up.")
    ] = 5.0,
    warmup: Annotated[
        float, typer.Option(help="Seconds of the virtual clock run before the measured ones.")
    ] = 5.0,
    seed: _Seed = 1,
    out: Annotated[Path | None, typer.Option(help="Also write the figures as JSON here.")] = None,
    repeat: Annotated[int, typer.Option(help="Measure this many times (the spread).")] = 1,
    compare: Annotated[
        str | None,
        typer.Option(help="A git ref: measure its engine too and name the functions that grew."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="With --compare: exit 1 when instructions grew by more.")
    ] = 0.01,
    slowdown_iterations: Annotated[
        int,
        # The proof that a known slowdown is seen and named: not for users.
        typer.Option(hidden=True, help="Also measure with this fixed slowdown per generation."),
    ] = 0,
    quiet: Annotated[bool, typer.Option(help="No progress lines or tables.")] = False,
) -> None:
    """Instructions per generation, message and agent set-up under valgrind (docs/cost.md)."""
    from bench.commands.cost import CostOptions, cost_command

    options = CostOptions(
        mode=mode,
        agents=agents,
        duration=duration,
        warmup=warmup,
        seed=seed,
        out=out,
        repeat=repeat,
        compare=compare,
        threshold=threshold,
        slowdown_iterations=slowdown_iterations,
        quiet=quiet,
    )
    raise typer.Exit(cost_command(options, ctx.obj))


def _words(text: str | None) -> list[str] | None:
    """The modes of a comma/space separated --modes; None when it was not given.

    Given but naming nothing (`--modes ","`) is refused: it must not mean "all modes".
    """
    if text is None:
        return None
    words = text.replace(",", " ").split()
    if not words:
        raise BenchError(f"--modes names no mode; choose from {', '.join(MODES)}")
    return words


def _numbers(text: str | None, option: str) -> list[int] | None:
    """The whole numbers of a comma/space separated option; None when it was not given."""
    if text is None:
        return None
    words = text.replace(",", " ").split()
    if not words:
        raise BenchError(f"{option} names no number; give whole numbers, e.g. {option} 400,900")
    try:
        return [int(word) for word in words]
    except ValueError:
        raise BenchError(f"{option} takes whole numbers, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status (2 = bad input, 130 = interrupted)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, prog_name="python -m bench", obj=argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


@app.command()
@_user_errors
def capacity(
    agents: Annotated[int, typer.Option(help="Agents to plan for (at least 9).")],
    period: Annotated[float, typer.Option(help="Their oscillator period, seconds.")] = 5.0,
    suite: Annotated[
        Path | None, typer.Option(help="Suite of the MQTT costs (default results/latest.json).")
    ] = None,
    mode: Annotated[str, typer.Option(help=f"The mode: {', '.join(MODES)}.")] = "shared",
    cores_per_host: Annotated[int, typer.Option(help="Cores of each worker host.")] = 2,
    utilisation: Annotated[
        float, typer.Option(help="Target busy fraction of each core, in (0, 1].")
    ] = 0.7,
    out: Annotated[Path | None, typer.Option(help="Also write the plan as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors.")] = False,
) -> None:
    """What N agents need (workers, hosts, broker), from a suite's MQTT costs."""
    from bench.commands.capacity import DEFAULT_SUITE, CapacityOptions, capacity_command

    options = CapacityOptions(
        agents=agents,
        period=period,
        suite=suite or DEFAULT_SUITE,
        mode=mode,
        cores_per_host=cores_per_host,
        utilisation=utilisation,
        out=out,
        quiet=quiet,
    )
    raise typer.Exit(capacity_command(options))
