"""`python -m bench cost`: instructions per generation, per message and per agent set-up.

Runs the cost child (bench/cost/child.py) under callgrind, which writes one profile per
segment of the child's run: the measured segment gives the figures per generation and per
message, two set-ups the figure per agent. Prints them and the C functions with the most
self instructions per generation; `--compare REF` measures REF's engine too and names the
functions that grew. See docs/cost.md.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.cost.callgrind import FunctionCost, Mover, top_movers
from bench.cost.measure import Cost, measure_costs
from bench.cost.segments import spread
from bench.cost.valgrind import ChildRun, find_valgrind, valgrind_version
from bench.errors import BenchError
from bench.result_file import check_writable, write_json_or_keep
from bench.workload import get_mode, make_config

TOP_PRINTED = 10
TOP_WRITTEN = 50
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class CostOptions:
    """The command line of `bench cost`."""

    mode: str = "shared"
    agents: int = 100
    duration: float = 5.0
    warmup: float = 5.0
    seed: int = 1
    out: Path | None = None
    repeat: int = 1
    compare: str | None = None
    threshold: float = 0.01
    slowdown_iterations: int = 0
    quiet: bool = False


def check_options(options: CostOptions) -> None:
    """Refuse bad input before any work (the workload's own validators)."""
    get_mode(options.mode)
    make_config(
        agents=options.agents,
        duration=options.duration,
        seed=options.seed,
        offer_grid_side=False,
    )
    if options.warmup < 0:
        raise BenchError(f"--warmup must be at least 0 seconds, got {options.warmup}")
    if options.repeat < 1:
        raise BenchError(f"--repeat must be at least 1, got {options.repeat}")
    if options.slowdown_iterations < 0:
        raise BenchError(f"--slowdown-iterations must be >= 0, got {options.slowdown_iterations}")
    if not 0 <= options.threshold < 1:
        raise BenchError(f"--threshold must be a fraction in [0, 1), got {options.threshold}")
    if options.out is not None:
        check_writable(options.out)


def child_of(options: CostOptions, slowdown_iterations: int = 0) -> ChildRun:
    """The measured child."""
    return ChildRun(
        options.mode,
        options.agents,
        options.duration,
        options.warmup,
        options.seed,
        slowdown_iterations,
    )


def cost_command(options: CostOptions, argv: list[str] | None = None) -> int:
    """Measure, print, write --out; 0 when done, 1 when the result could not be written or
    `--compare` found more instructions than the threshold allows."""
    check_options(options)
    valgrind = find_valgrind()
    console = Console(stderr=True, quiet=options.quiet)
    if options.compare is not None:
        return _compare(options, options.compare, console)
    console.print(f"measuring {options.mode} under callgrind ({options.repeat} time(s))")
    measurements = measure_costs([child_of(options)] * options.repeat, valgrind)
    slowed = None
    if options.slowdown_iterations:
        console.print(f"measuring with a slowdown of {options.slowdown_iterations} iterations")
        slowed = measure_costs([child_of(options, options.slowdown_iterations)], valgrind)[0]
    document = cost_document(options, measurements, slowed, valgrind_version(valgrind), argv)
    if not options.quiet:
        print_figures(Console(), document)
    if options.out is not None:
        message = write_json_or_keep(options.out, document)
        if message is not None:
            print(f"error: {message}", file=sys.stderr)
            return 1
    return 0


def _compare(options: CostOptions, ref: str, console: Console) -> int:
    """The gate's instruction family for one mode: `ref`'s engine against the working
    tree's, both run by the working tree's harness."""
    from bench.gate.instructions import BASE, HEAD, instruction_family
    from bench.gate.settings import GateSettings
    from bench.gate.sides import checked_out, repo_root, resolve, run_folder

    settings = GateSettings(
        modes=(options.mode,),
        virtual_agents=options.agents,
        instruction_warmup=options.warmup,
        instruction_duration=options.duration,
        instruction_threshold=options.threshold,
    )
    repo = repo_root(_ROOT)
    commit = resolve(repo, ref)
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(checked_out(repo, commit))
        folders = {
            BASE: stack.enter_context(run_folder(_ROOT, base)),
            HEAD: stack.enter_context(run_folder(_ROOT, _ROOT)),
        }
        checks, notes = instruction_family(settings, folders, console)
    out = Console(quiet=options.quiet)
    for note in notes:
        out.print(note)
    for check in checks:
        change = "-" if check.change is None else f"{check.change:+.3%}"
        out.print(
            f"{check.mode}: {ref} {check.base or 0:,.0f} -> working tree "
            f"{check.head or 0:,.0f} instructions per generation ({change}): "
            f"{check.verdict}, {escape(check.note)}"
        )
        for mover in check.movers:
            out.print(f"  grew: {escape(mover)}")
    return 1 if any(check.verdict == "fail" for check in checks) else 0


def cost_document(
    options: CostOptions,
    measurements: list[Cost],
    slowed: Cost | None,
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
            "warmup": options.warmup,
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
        "segments": [
            {"name": segment.name, **segment.counts, "instructions": segment.instructions}
            for segment in first.segments
        ],
        "functions": [_function(cost) for cost in first.functions[:TOP_WRITTEN]],
        "meta": {
            **collect_meta(loop="asyncio", clock="virtual", argv=argv),
            "valgrind": version,
            "command": " ".join(first.command),
        },
    }
    if slowed is not None:
        base, head = first.self_costs(), slowed.self_costs()
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
        f"{config['mode']} · {config['agents']} agents · {config['duration']:g} s of the "
        f"virtual clock after {config['warmup']:g} s of warm-up · seed {config['seed']}"
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
