"""`python -m bench cost`: instructions per generation, per message and per agent set-up.

Runs the cost child (bench/cost/child.py) under callgrind four times per repeat: the
workload for D and 2D seconds of the virtual clock (per generation and per message, by
difference), and set-up only at two agent counts (per agent, by difference); prints the
figures and the functions with the most self instructions per generation. See docs/cost.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.cost.callgrind import FunctionCost, Mover, per_generation, top_movers
from bench.cost.difference import Figures, figures, setup_agents, spread
from bench.cost.valgrind import ChildRun, Measured, find_valgrind, measure, valgrind_version
from bench.errors import BenchError
from bench.result_file import check_writable, write_json_or_keep
from bench.workload import get_mode, make_config

TOP_PRINTED = 10
TOP_WRITTEN = 50


@dataclass(frozen=True, slots=True)
class CostOptions:
    """The command line of `bench cost`."""

    mode: str = "shared"
    agents: int = 100
    duration: float = 5.0
    seed: int = 1
    out: Path | None = None
    repeat: int = 1
    slowdown_iterations: int = 0
    quiet: bool = False


@dataclass(frozen=True)
class Measurement:
    """One repeat: the figures and the per-function costs per generation."""

    figures: Figures
    functions: list[FunctionCost]
    runs: list[Measured]


def check_options(options: CostOptions) -> None:
    """Refuse bad input before any work (the workload's own validators)."""
    get_mode(options.mode)
    make_config(
        agents=options.agents,
        duration=options.duration,
        seed=options.seed,
        offer_grid_side=False,
    )
    if options.repeat < 1:
        raise BenchError(f"--repeat must be at least 1, got {options.repeat}")
    if options.slowdown_iterations < 0:
        raise BenchError(f"--slowdown-iterations must be >= 0, got {options.slowdown_iterations}")
    if options.out is not None:
        check_writable(options.out)


def children(options: CostOptions, slowdown_iterations: int = 0) -> list[ChildRun]:
    """The four runs of one measurement: D, 2D, set-up at few and at `agents` agents."""
    base = ChildRun(
        options.mode, options.agents, options.duration, options.seed, slowdown_iterations
    )
    return [
        base,
        replace(base, duration=2 * options.duration),
        replace(base, agents=setup_agents(options.agents), duration=0),
        replace(base, duration=0),
    ]


def measure_once(
    runs: list[ChildRun], run: Callable[[ChildRun], Measured], workers: int = 2
) -> Measurement:
    """Measure the four runs (two at a time: instruction counts do not care) and take the
    differences."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        short, long, few, many = pool.map(run, runs)
    done = figures(short.sample, long.sample, few.sample, many.sample)
    extra = long.sample.counts["generations"] - short.sample.counts["generations"]
    functions = per_generation(short.profile, long.profile, extra)
    return Measurement(done, functions, [short, long, few, many])


def cost_command(options: CostOptions, argv: list[str] | None = None) -> int:
    """Measure, print, write --out; 0 when done, 1 when the result could not be written."""
    check_options(options)
    valgrind = find_valgrind()
    console = Console(stderr=True, quiet=options.quiet)

    def run(child: ChildRun) -> Measured:
        return measure(child, valgrind)

    measurements: list[Measurement] = []
    for index in range(options.repeat):
        console.print(f"measuring {options.mode} ({index + 1}/{options.repeat}) under callgrind")
        measurements.append(measure_once(children(options), run))
    slowed = None
    if options.slowdown_iterations:
        console.print(f"measuring with a slowdown of {options.slowdown_iterations} iterations")
        slowed = measure_once(children(options, options.slowdown_iterations), run)
    document = cost_document(options, measurements, slowed, valgrind_version(valgrind), argv)
    if not options.quiet:
        print_figures(Console(), document)
    if options.out is not None:
        message = write_json_or_keep(options.out, document)
        if message is not None:
            print(f"error: {message}", file=sys.stderr)
            return 1
    return 0


def cost_document(
    options: CostOptions,
    measurements: list[Measurement],
    slowed: Measurement | None,
    version: str,
    argv: list[str] | None,
) -> dict[str, Any]:
    """The JSON of a cost measurement (the first repeat's figures; all repeats listed)."""
    from bench.environment import collect_meta

    first = measurements[0]
    per_generation_values = [m.figures.per_generation for m in measurements]
    document: dict[str, Any] = {
        "config": {
            "mode": options.mode,
            "agents": options.agents,
            "duration": options.duration,
            "seed": options.seed,
        },
        "instructions_per_generation": first.figures.per_generation,
        "instructions_per_message": first.figures.per_message,
        "instructions_per_agent_setup": first.figures.per_agent_setup,
        "repeats": [
            {
                "instructions_per_generation": m.figures.per_generation,
                "instructions_per_message": m.figures.per_message,
                "instructions_per_agent_setup": m.figures.per_agent_setup,
            }
            for m in measurements
        ],
        "spread_per_generation": spread(per_generation_values),
        "runs": [
            {**run.sample.counts, "instructions": run.sample.instructions} for run in first.runs
        ],
        "functions": [_function(cost) for cost in first.functions[:TOP_WRITTEN]],
        "meta": {
            **collect_meta(loop="asyncio", clock="virtual", argv=argv),
            "valgrind": version,
            "commands": [" ".join(run.command) for run in first.runs],
        },
    }
    if slowed is not None:
        base = {cost.name: cost.self_per_generation for cost in first.functions}
        head = {cost.name: cost.self_per_generation for cost in slowed.functions}
        document["slowdown"] = {
            "iterations": options.slowdown_iterations,
            "instructions_per_generation": slowed.figures.per_generation,
            "change": slowed.figures.per_generation / first.figures.per_generation - 1,
            "top_movers": [_mover(mover) for mover in top_movers(base, head, n=5)],
        }
    return document


def _function(cost: FunctionCost) -> dict[str, Any]:
    return {
        "name": cost.name,
        "self_per_generation": round(cost.self_per_generation, 1),
        "inclusive_per_generation": round(cost.inclusive_per_generation, 1),
    }


def _mover(mover: Mover) -> dict[str, Any]:
    return {"name": mover.name, "base": round(mover.base, 1), "head": round(mover.head, 1)}


def print_figures(console: Console, document: dict[str, Any]) -> None:
    """The figures, the repeats' spread, the top functions and the slowdown's movers."""
    config = document["config"]
    console.print(
        f"{config['mode']} · {config['agents']} agents · {config['duration']:g} s "
        f"(and {2 * config['duration']:g} s) of the virtual clock · seed {config['seed']}"
    )
    console.print(f"instructions per generation  {document['instructions_per_generation']:,.0f}")
    console.print(f"instructions per message     {document['instructions_per_message']:,.0f}")
    console.print(f"instructions per agent set-up {document['instructions_per_agent_setup']:,.0f}")
    repeats = document["repeats"]
    if len(repeats) > 1:
        values = ", ".join(f"{r['instructions_per_generation']:,.0f}" for r in repeats)
        console.print(
            f"{len(repeats)} repeats per generation: {values}; "
            f"spread {document['spread_per_generation']:.4%}"
        )
    table = Table(title="functions by self instructions per generation")
    table.add_column("function")
    table.add_column("self / generation", justify="right")
    table.add_column("inclusive / generation", justify="right")
    for function in document["functions"][:TOP_PRINTED]:
        table.add_row(
            escape(function["name"]),
            f"{function['self_per_generation']:,.0f}",
            f"{function['inclusive_per_generation']:,.0f}",
        )
    console.print(table)
    slowdown = document.get("slowdown")
    if slowdown is not None:
        console.print(
            f"with a slowdown of {slowdown['iterations']} iterations per generation: "
            f"{slowdown['instructions_per_generation']:,.0f} per generation "
            f"({slowdown['change']:+.2%}); top movers:"
        )
        for mover in slowdown["top_movers"]:
            console.print(
                f"  {escape(mover['name'])}: {mover['base']:,.0f} -> {mover['head']:,.0f}"
            )
