"""The gate's instruction family: instructions per generation of each mode under callgrind,
base and head, and, for a mode that grew, the functions that grew most.

Runs before the timing runs, never beside them (valgrind would disturb the timings); two
callgrind runs share the two cores. With `--inject-slowdown F` the head's engine modes
carry a deterministic slowdown calibrated to F of the base's instructions per generation.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.cost.callgrind import top_movers
from bench.cost.measure import PARALLEL, Cost, measure_cost
from bench.cost.spin import CALIBRATION_ITERATIONS, Calibration
from bench.cost.valgrind import INSTALL_HINT, ChildRun, find_valgrind, python_profile
from bench.errors import BenchError
from bench.gate.checks import FAIL, Check, instruction_check, unsettled
from bench.gate.settings import GateSettings

BASE, HEAD = "base", "head"
TOP = 5
CONFIRM_LAYOUTS = (1, 2)
"""The memory layouts (bench/cost/child.py) measured besides 0 when a change is unsettled."""


@dataclass(slots=True)
class Injection:
    """The head's deterministic slowdown in one mode: iterations and the fraction they cost."""

    iterations: int
    fraction: float


@dataclass(slots=True)
class InstructionRuns:
    """Per side, per mode: instructions per generation (None where a side failed)."""

    values: dict[str, dict[str, float | None]] = field(default_factory=lambda: {BASE: {}, HEAD: {}})
    costs: dict[str, dict[str, Cost]] = field(default_factory=lambda: {BASE: {}, HEAD: {}})
    errors: dict[str, str] = field(default_factory=dict)
    injections: dict[str, Injection] = field(default_factory=dict)
    confirmed: list[str] = field(default_factory=list)
    """Modes measured at every layout of CONFIRM_LAYOUTS too (their values are medians)."""
    runs: int = 0


def child_of(mode: str, settings: GateSettings, iterations: int = 0, layout: int = 0) -> ChildRun:
    """The measured child of one mode at the gate's settings."""
    return ChildRun(
        mode,
        settings.virtual_agents,
        settings.instruction_duration,
        settings.instruction_warmup,
        slowdown_iterations=iterations,
        layout=layout,
    )


def instruction_family(
    settings: GateSettings,
    folders: dict[str, Path],
    console: Console,
    head_slowdown: float | None = None,
) -> tuple[list[Check], list[str]]:
    """Measure every mode on both sides and judge: (checks, notes for the report). Without
    valgrind the family is skipped with a note, not failed.

    KeyboardInterrupt passes through: the caller keeps what the other families measured."""
    if not settings.instructions:
        return [], []
    try:
        valgrind = find_valgrind()
    except BenchError:
        reason = (
            f"instruction counts skipped: valgrind is not installed (`{INSTALL_HINT}`); "
            "the timing checks still ran"
        )
        console.print(f"warning: {reason}")
        return [], [reason]
    console.print(
        f"instructions: {', '.join(settings.modes)} under callgrind, base and head "
        f"({settings.virtual_agents} agents, {settings.instruction_duration:g} s after "
        f"{settings.instruction_warmup:g} s of the virtual clock)"
    )
    found = measure_sides(settings, folders, valgrind, head_slowdown)
    checks = []
    for mode in settings.modes:
        base, head = found.values[BASE].get(mode), found.values[HEAD].get(mode)
        check = instruction_check(
            mode, base, head, settings.instruction_threshold, found.errors.get(mode)
        )
        if check.verdict == FAIL and mode in found.costs[HEAD] and mode in found.costs[BASE]:
            console.print(f"instructions: {mode} grew; naming the functions that grew")
            movers = name_movers(found.costs[BASE][mode], found.costs[HEAD][mode], folders)
            check = dataclasses.replace(check, movers=tuple(movers))
        if mode in found.confirmed:
            check = dataclasses.replace(check, note=f"{check.note} (median of 3 memory layouts)")
        injection = found.injections.get(mode)
        if injection is not None:
            note = f"{check.note}; injected {injection.iterations} iterations"
            check = dataclasses.replace(check, note=f"{note} ≈ {injection.fraction:+.2%}")
        checks.append(check)
    return checks, []


def measure_sides(
    settings: GateSettings,
    folders: dict[str, Path],
    valgrind: str,
    head_slowdown: float | None = None,
) -> InstructionRuns:
    """Both sides' instructions per generation per mode (the base first when the head's
    slowdown must be calibrated on it)."""
    found = InstructionRuns()
    plain = [(side, child_of(mode, settings)) for mode in settings.modes for side in folders]
    if head_slowdown is not None:
        plain = [(side, child) for side, child in plain if side != HEAD]
    _measure(found, plain, folders, valgrind)
    if head_slowdown is not None:
        _inject(found, settings, folders, valgrind, head_slowdown)
    _confirm(found, settings, folders, valgrind)
    return found


def _confirm(
    found: InstructionRuns, settings: GateSettings, folders: dict[str, Path], valgrind: str
) -> None:
    """Measure the modes whose change is not clearly small at CONFIRM_LAYOUTS too, and judge
    them by the median of the three layouts: a collision in CPython's method cache that
    one memory layout happens to hit (up to ~2%) is outvoted."""
    modes = [
        mode
        for mode in settings.modes
        if unsettled(
            found.values[BASE].get(mode),
            found.values[HEAD].get(mode),
            settings.instruction_threshold,
        )
    ]
    runs = [
        (side, dataclasses.replace(found.costs[side][mode].child, layout=layout))
        for mode in modes
        for side in (BASE, HEAD)
        if mode in found.costs[side]
        for layout in CONFIRM_LAYOUTS
    ]
    extra = InstructionRuns()
    _measure(extra, runs, folders, valgrind, label=_layout_label)
    found.runs += extra.runs
    for mode in modes:
        for side in (BASE, HEAD):
            layouts = [f"{mode} layout {layout}" for layout in CONFIRM_LAYOUTS]
            values = [found.values[side].get(mode), *map(extra.values[side].get, layouts)]
            known = [value for value in values if value is not None]
            if len(known) == len(values):
                found.values[side][mode] = statistics.median(known)
        found.confirmed.append(mode)


def _inject(
    found: InstructionRuns,
    settings: GateSettings,
    folders: dict[str, Path],
    valgrind: str,
    fraction: float,
) -> None:
    """Calibrate the slowdown on the head per mode, then measure the head with it."""
    calibration = InstructionRuns()
    runs = [
        (HEAD, child_of(mode, settings, iterations))
        for mode in settings.modes
        for iterations in CALIBRATION_ITERATIONS
    ]
    _measure(calibration, runs, folders, valgrind, label=_calibration_label)
    found.runs += calibration.runs
    slowed = []
    for mode in settings.modes:
        plain = found.values[BASE].get(mode)
        one, many = (
            calibration.values[HEAD].get(_calibration_label(child_of(mode, settings, i)))
            for i in CALIBRATION_ITERATIONS
        )
        if plain is None or one is None or many is None:
            continue
        scale = Calibration.from_runs(plain, one, many)
        iterations = scale.iterations_for(fraction, plain)
        if iterations is None:  # no engine: nothing to slow down
            slowed.append((HEAD, child_of(mode, settings)))
            continue
        found.injections[mode] = Injection(iterations, scale.injected(iterations, plain))
        slowed.append((HEAD, child_of(mode, settings, iterations)))
    _measure(found, slowed, folders, valgrind)


def _measure(
    found: InstructionRuns,
    runs: list[tuple[str, ChildRun]],
    folders: dict[str, Path],
    valgrind: str,
    label: Callable[[ChildRun], str] = lambda child: child.mode,
) -> None:
    """Measure `runs` (side, child), PARALLEL at a time; record each one's value, cost or
    error under `label(child)`."""

    def one(run: tuple[str, ChildRun]) -> tuple[str, ChildRun, Cost | str]:
        side, child = run
        try:
            return side, child, measure_cost(child, valgrind, folders[side])
        except BenchError as error:
            return side, child, f"the {side} failed under valgrind: {error}"

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(one, runs))
    for side, child, cost in results:
        found.runs += 1
        name = label(child)
        if isinstance(cost, str):
            found.values[side][name] = None
            found.errors[name] = cost
        else:
            found.values[side][name] = cost.figures.per_generation
            found.costs[side][name] = cost


def _layout_label(child: ChildRun) -> str:
    return f"{child.mode} layout {child.layout}"


def _calibration_label(child: ChildRun) -> str:
    return f"{child.mode} + {child.slowdown_iterations} iterations"


def name_movers(base: Cost, head: Cost, folders: dict[str, Path]) -> list[str]:
    """The Python functions (bytecodes per generation, run natively) and the C functions
    (instructions per generation, from callgrind) that grew most from base to head."""
    runs = [(base.child, folders[BASE]), (head.child, folders[HEAD])]
    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            before, after = pool.map(lambda run: python_profile(*run), runs)
        python = [
            f"{m.name}: +{m.change:,.0f} bytecodes/generation"
            for m in top_movers(before, after, TOP)
        ]
    except BenchError as error:
        python = [f"(Python functions not named: {error})"]
    native = [
        f"{m.name} [C]: +{m.change:,.0f} instructions/generation"
        for m in top_movers(base.self_costs(), head.self_costs(), TOP)
    ]
    return python + native
