"""Does the instruction family work here? Repeats (determinism, false alarms), memory layouts
(what an innocent change can do), and injected slowdowns of 2%, 5% and 10% (caught, named).

Part of `python -m bench gate --validate`; the pure summary and Markdown are separate from
the runs.
"""

from __future__ import annotations

import itertools
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.cost.measure import measure_costs
from bench.cost.segments import spread
from bench.cost.valgrind import find_valgrind
from bench.gate.checks import FAIL, Check, instruction_check
from bench.gate.instructions import BASE, HEAD, child_of, instruction_family
from bench.gate.settings import GateSettings

FRACTIONS = (0.02, 0.05, 0.10)
LAYOUTS = 6
SPIN = "cost_spin"
"""The injected slowdown's function (bench/cost/spin.py): what a caught injection must name."""


@dataclass(slots=True)
class InstructionValidation:
    """Per mode: the repeated figures (layout 0) and the figure at each layout; per injected
    fraction, the gate's instruction checks."""

    threshold: float
    repeats: dict[str, list[float]] = field(default_factory=dict)
    layouts: dict[str, list[float]] = field(default_factory=dict)
    injected: dict[float, list[Check]] = field(default_factory=dict)
    elapsed_s: float = 0.0


def run_instruction_validation(
    folder: Path,
    settings: GateSettings,
    repeats: int,
    console: Console,
    fractions: tuple[float, ...] = FRACTIONS,
) -> InstructionValidation:
    """Measure `folder`'s tree `repeats` times and at LAYOUTS layouts per mode, then run the
    instruction family against itself with each injected fraction."""
    started = time.monotonic()
    valgrind = find_valgrind()
    found = InstructionValidation(settings.instruction_threshold)
    console.print(f"instructions: {repeats} repeats of {', '.join(settings.modes)}")
    children = [child_of(mode, settings) for mode in settings.modes for _ in range(repeats)]
    for child, cost in zip(children, measure_costs(children, valgrind, folder), strict=True):
        found.repeats.setdefault(child.mode, []).append(cost.figures.per_generation)
    console.print(f"instructions: {LAYOUTS - 1} more memory layouts per mode")
    layouts = [
        child_of(mode, settings, layout=layout)
        for mode in settings.modes
        for layout in range(1, LAYOUTS)
    ]
    for mode in settings.modes:
        found.layouts[mode] = [found.repeats[mode][0]]
    for child, cost in zip(layouts, measure_costs(layouts, valgrind, folder), strict=True):
        found.layouts[child.mode].append(cost.figures.per_generation)
    folders = {BASE: folder, HEAD: folder}
    for fraction in fractions:
        console.print(f"instructions: the tree against itself with {fraction:.0%} injected")
        checks, _ = instruction_family(settings, folders, console, head_slowdown=fraction)
        found.injected[fraction] = checks
    found.elapsed_s = time.monotonic() - started
    return found


def summary(found: InstructionValidation) -> dict[str, Any]:
    """Spreads, false alarms over every pair of repeats, layout effects, catches (pure)."""
    modes: dict[str, Any] = {}
    false_alarms = pairs = 0
    for mode, values in found.repeats.items():
        alarms = [
            (a, b)
            for a, b in itertools.permutations(values, 2)
            if instruction_check(mode, a, b, found.threshold).verdict == FAIL
        ]
        false_alarms += len(alarms)
        pairs += len(values) * (len(values) - 1)
        layouts = found.layouts.get(mode, [])
        moves = [value / layouts[0] - 1 for value in layouts[1:]] if layouts else []
        modes[mode] = {
            "repeats": len(values),
            "median": statistics.median(values),
            "spread": spread(values),
            "false_alarms": len(alarms),
            "layouts": layouts,
            "layout_spread": spread(layouts) if layouts else None,
            "layout_max_move": max((abs(m) for m in moves), default=None),
            "layouts_over_threshold": sum(abs(m) > found.threshold for m in moves),
        }
    injected = {}
    all_caught = True
    for fraction, checks in found.injected.items():
        rows = {}
        for check in checks:
            engine = "injected" in check.note
            caught = check.verdict == FAIL
            named = bool(check.movers) and SPIN in check.movers[0]
            if engine:
                all_caught &= caught and named
            rows[check.mode] = {
                "change": check.change,
                "verdict": check.verdict,
                "note": check.note,
                "top_mover": check.movers[0] if check.movers else None,
                "engine": engine,
                "caught": caught,
                "named": named,
            }
        injected[f"{fraction:g}"] = rows
    return {
        "threshold": found.threshold,
        "modes": modes,
        "aa_pairs": pairs,
        "aa_false_alarms": false_alarms,
        "injected": injected,
        "all_caught": all_caught and bool(injected),
        "elapsed_s": round(found.elapsed_s, 1),
    }


def passed(result: dict[str, Any]) -> bool:
    """No false alarm among the repeats, and every injection in an engine mode caught and
    named."""
    return result["aa_false_alarms"] == 0 and result["all_caught"]


def as_markdown(result: dict[str, Any]) -> str:
    """The instruction family's validation, in a few lines and two tables."""
    lines = [
        "## Instructions per generation",
        "",
        f"Threshold {result['threshold']:.0%}. A/A: every ordered pair of repeats compared as "
        f"base and head: {result['aa_false_alarms']} false alarms in {result['aa_pairs']} "
        f"comparisons. Total time {result['elapsed_s']:.0f} s.",
        "",
        "| mode | repeats | median | spread | layouts: spread | max move from layout 0 "
        "| layouts over threshold |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, row in result["modes"].items():
        layout_spread = row["layout_spread"]
        moved = row["layout_max_move"]
        lines.append(
            f"| {mode} | {row['repeats']} | {row['median']:,.0f} | {row['spread']:.4%} | "
            f"{'-' if layout_spread is None else f'{layout_spread:.2%}'} | "
            f"{'-' if moved is None else f'{moved:.2%}'} | {row['layouts_over_threshold']} |"
        )
    lines += ["", "| injected | mode | change | verdict | named first |", "|---|---|---:|---|---|"]
    for fraction, rows in result["injected"].items():
        for mode, row in rows.items():
            change = "-" if row["change"] is None else f"{row['change']:+.2%}"
            mover = row["top_mover"] or ("(no engine: not injected)" if not row["engine"] else "-")
            lines.append(
                f"| {float(fraction):.0%} | {mode} | {change} | {row['verdict']} | `{mover}` |"
            )
    return "\n".join(lines) + "\n"
