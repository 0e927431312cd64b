"""The gate's decisions, from plain numbers: every check, its verdict, and the exit status.

Four families: deterministic counts from the virtual clock (exact, or within a tiny
tolerance), instructions per generation under valgrind (within a 1% threshold), timing and
memory from the real clock (a regression must be larger than its threshold AND
significant), and the project's own relations between modes on the head.
Nothing here runs a process or reads a file.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.gate.settings import COUNT_METRICS, PER_AGENT_METRICS, TIMING_METRICS, GateSettings
from bench.metrics import BY_PATH, Metric
from bench.stats import MIN_SAMPLES, Change, paired_change, unpaired_change

Values = dict[str, dict[str, float | None]]
"""mode -> metric path -> the value of one run."""

Series = dict[str, dict[str, list[float | None]]]
"""mode -> metric path -> one value per pair (index i of base pairs with index i of head)."""

PASS, IMPROVED, CHANGED, WARN, FAIL, SKIP = "pass", "improved", "changed", "warn", "fail", "skip"
VERDICTS = (PASS, IMPROVED, CHANGED, WARN, FAIL, SKIP)

EXIT_PASS, EXIT_REGRESSION, EXIT_CANNOT_RUN = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison: what, in which mode, base and head, the change and the verdict."""

    family: str
    name: str
    mode: str
    unit: str
    base: float | None
    head: float | None
    change: float | None
    """head/base - 1 (for timing: the geometric mean of the ratios, minus 1)."""
    verdict: str
    note: str = ""
    low: float | None = None
    """The confidence interval of head/base - 1, when there is one."""
    high: float | None = None
    movers: tuple[str, ...] = ()
    """What grew most, when a check names it (the instruction family's failures)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for gate.json."""
        return {**asdict(self), "movers": list(self.movers)}


def exit_status(checks: Sequence[Check]) -> int:
    """1 when any check failed, else 0."""
    return EXIT_REGRESSION if any(check.verdict == FAIL for check in checks) else EXIT_PASS


def deterministic_checks(base: Values, head: Values, settings: GateSettings) -> list[Check]:
    """Virtual-clock counts (exact) and per-agent setup costs (within `tolerance`), per mode."""
    checks = []
    for mode in settings.modes:
        for path in (*COUNT_METRICS, *PER_AGENT_METRICS):
            tolerance = 0.0 if path in COUNT_METRICS else settings.tolerance
            checks.append(
                _deterministic(
                    BY_PATH[path], mode, _get(base, mode, path), _get(head, mode, path), tolerance
                )
            )
    return checks


INSTRUCTIONS = "instructions"


def instruction_check(
    mode: str,
    base: float | None,
    head: float | None,
    threshold: float,
    error: str | None = None,
) -> Check:
    """Instructions per generation, head/base: exact counts, so no statistics; fail above
    `threshold`, improved below -`threshold`."""
    name, unit = BY_PATH["instructions.per_generation"].label, "count"
    if base is None or head is None:
        note = error or f"no {'base' if base is None else 'head'} value"
        verdict = FAIL if head is None and base is not None else SKIP
        return Check(INSTRUCTIONS, name, mode, unit, base, head, None, verdict, note)
    change = _relative(base, head)
    if change is None or change == 0:
        return Check(INSTRUCTIONS, name, mode, unit, base, head, change, PASS, "identical")
    if change > threshold:
        verdict, note = FAIL, f"more than {threshold:.0%} more instructions per generation"
    elif change < -threshold:
        verdict, note = IMPROVED, f"more than {threshold:.0%} fewer instructions per generation"
    else:
        verdict, note = PASS, f"within {threshold:.0%}"
    return Check(INSTRUCTIONS, name, mode, unit, base, head, change, verdict, note)


def unsettled(base: float | None, head: float | None, threshold: float) -> bool:
    """Whether an instruction change is large enough (over half the threshold, either way)
    to be measured at more memory layouts before it is judged."""
    if base is None or head is None or base == 0:
        return False
    return abs(head / base - 1) > threshold / 2


def timing_checks(
    base: Series, head: Series, settings: GateSettings, *, paired: bool = True
) -> list[Check]:
    """Real-clock metrics, head/base; fail only when worse than the threshold and significant."""
    checks = []
    for mode in settings.modes:
        for path in TIMING_METRICS:
            checks.append(
                _timing(
                    BY_PATH[path],
                    mode,
                    base.get(mode, {}).get(path, []),
                    head.get(mode, {}).get(path, []),
                    settings.threshold_for(path),
                    settings.confidence,
                    paired,
                    settings.min_ms if BY_PATH[path].unit == "ms" else 0.0,
                )
            )
    return checks


def relation_checks(
    base: Series, head: Series, settings: GateSettings, *, paired: bool = True
) -> list[Check]:
    """The head keeps the project's promise: shared is lighter than per_agent, close to raw."""
    checks = []
    if {"shared", "per_agent"} <= set(settings.modes):
        checks.append(_lighter_than_per_agent(base, head))
    if {"shared", "raw"} <= set(settings.modes):
        checks.append(_close_to_raw(base, head, settings, paired))
    return checks


def _deterministic(
    metric: Metric, mode: str, base: float | None, head: float | None, tolerance: float
) -> Check:
    family, name = "deterministic", metric.label
    if base is None or head is None:
        side = "base" if base is None else "head"
        return Check(family, name, mode, metric.unit, base, head, None, SKIP, f"no {side} value")
    change = _relative(base, head)
    if head == base:
        return Check(family, name, mode, metric.unit, base, head, 0.0, PASS, "identical")
    # Every deterministic number counts work or cost (steps, messages, misses, errors,
    # objects, bytes): more is what fails. Less is reported, since the interleaving of the
    # agents (and so every count) moves when the engine yields at other points.
    allowed = f"tolerance {tolerance:.1%}" if tolerance else "must match exactly"
    if change is not None and abs(change) <= tolerance:
        verdict, note = PASS, f"within {allowed}"
    elif head > base:
        verdict, note = FAIL, f"more under the virtual clock ({allowed})"
    else:
        verdict, note = CHANGED, "fewer under the virtual clock: check the change is intended"
    return Check(family, name, mode, metric.unit, base, head, change, verdict, note)


def _timing(
    metric: Metric,
    mode: str,
    base: Sequence[float | None],
    head: Sequence[float | None],
    threshold: float,
    confidence: float,
    paired: bool,
    floor: float = 0.0,
) -> Check:
    family, name, unit = "timing", metric.label, metric.unit
    if paired:
        kept = [(b, h) for b, h in zip(base, head, strict=False) if _usable(b) and _usable(h)]
        base_values, head_values = [b for b, _ in kept], [h for _, h in kept]
    else:
        base_values = [b for b in base if _usable(b)]
        head_values = [h for h in head if _usable(h)]
    base_mid, head_mid = _median(base_values), _median(head_values)
    if min(len(base_values), len(head_values)) < MIN_SAMPLES:
        note = f"fewer than {MIN_SAMPLES} usable {'pairs' if paired else 'values per side'}"
        return Check(family, name, mode, unit, base_mid, head_mid, None, SKIP, note)
    compare = paired_change if paired else unpaired_change
    change = compare(base_values, head_values, confidence)  # type: ignore[arg-type]
    verdict, note = _judge(change, metric.better, threshold, confidence)
    if verdict == FAIL and floor and head_mid - base_mid < floor:  # type: ignore[operator]
        verdict, note = WARN, f"{note}, but the medians differ by under {floor:g} {unit}"
    return _with_change(family, name, mode, unit, base_mid, head_mid, change, verdict, note)


def _judge(change: Change, better: str, threshold: float, confidence: float) -> tuple[str, str]:
    """fail: worse by more than the threshold and significant; warn: worse, within noise."""
    worse_ratio = change.ratio if better == "lower" else 1 / change.ratio
    significantly_worse = change.above_one if better == "lower" else change.below_one
    significantly_better = change.below_one if better == "lower" else change.above_one
    level = f"{confidence:.0%} interval"
    if worse_ratio - 1 > threshold:
        if significantly_worse:
            return FAIL, f"worse by more than {threshold:.0%}, significant ({level})"
        return WARN, (
            f"worse by more than {threshold:.0%} but not significant: the {level} spans "
            f"±{change.spread:.0%}; re-run or add pairs"
        )
    if 1 / worse_ratio - 1 > threshold:
        if significantly_better:
            return IMPROVED, f"better by more than {threshold:.0%}, significant ({level})"
        return PASS, f"better by more than {threshold:.0%} but not significant ({level})"
    if significantly_worse:
        return PASS, f"significantly worse, but by less than {threshold:.0%}"
    return PASS, f"within {threshold:.0%}"


def _lighter_than_per_agent(base: Series, head: Series) -> Check:
    """shared RSS per agent / per_agent RSS per agent, medians; must stay ≤ 1 on the head."""
    path = "memory.rss_per_agent_bytes"
    base_ratio = _median_ratio(base, "shared", "per_agent", path)
    head_ratio = _median_ratio(head, "shared", "per_agent", path)
    name = "RSS per agent, shared / per_agent"
    if head_ratio is None:
        return Check("relation", name, "head", "ratio", base_ratio, None, None, SKIP, "no data")
    change = None if base_ratio is None else _relative(base_ratio, head_ratio)
    if head_ratio <= 1.0:
        verdict, note = PASS, "shared uses no more memory per agent than per_agent"
    else:
        verdict, note = FAIL, "shared uses more memory per agent than per_agent"
    return Check("relation", name, "head", "ratio", base_ratio, head_ratio, change, verdict, note)


def _close_to_raw(base: Series, head: Series, settings: GateSettings, paired: bool) -> Check:
    """shared / raw CPU per generation: at most `shared_vs_raw`, or at least no worse than base."""
    path, name = "work.cpu_us_per_generation", "CPU per generation, shared / raw"
    base_factors = _factors(base, "shared", "raw", path)
    head_factors = _factors(head, "shared", "raw", path)
    base_mid = _median([f for f in base_factors if f])
    head_mid = _median([f for f in head_factors if f])  # the head alone decides the limit
    if paired:
        kept = [(b, h) for b, h in zip(base_factors, head_factors, strict=False) if b and h]
        base_values, head_values = [b for b, _ in kept], [h for _, h in kept]
    else:
        base_values = [f for f in base_factors if f]
        head_values = [f for f in head_factors if f]
    if head_mid is None:
        return Check("relation", name, "head", "ratio", base_mid, None, None, SKIP, "no data")
    limit = settings.shared_vs_raw
    if head_mid <= limit:
        moved = None if base_mid is None else _relative(base_mid, head_mid)
        note = f"at most {limit:g}x raw"
        return Check("relation", name, "head", "ratio", base_mid, head_mid, moved, PASS, note)
    if min(len(base_values), len(head_values)) < MIN_SAMPLES:
        note = f"above {limit:g}x raw; too few values to compare with the base"
        return Check("relation", name, "head", "ratio", base_mid, head_mid, None, WARN, note)
    compare = paired_change if paired else unpaired_change
    change = compare(base_values, head_values, settings.confidence)
    threshold = settings.threshold_for(path)
    verdict, why = _judge(change, "lower", threshold, settings.confidence)
    if verdict == FAIL:
        note = f"above {limit:g}x raw and further from raw than the base: {why}"
    else:
        verdict, note = WARN, f"above {limit:g}x raw (the target), but no worse than the base"
    return _with_change(
        "relation", name, "head", "ratio", base_mid, head_mid, change, verdict, note
    )


def _with_change(
    family: str,
    name: str,
    mode: str,
    unit: str,
    base: float | None,
    head: float | None,
    change: Change,
    verdict: str,
    note: str,
) -> Check:
    return Check(
        family,
        name,
        mode,
        unit,
        base,
        head,
        change.ratio - 1,
        verdict,
        note,
        change.low - 1,
        change.high - 1,
    )


def _factors(series: Series, top: str, bottom: str, path: str) -> list[float | None]:
    tops = series.get(top, {}).get(path, [])
    bottoms = series.get(bottom, {}).get(path, [])
    return [
        t / b if _usable(t) and _usable(b) else None  # type: ignore[operator]
        for t, b in zip(tops, bottoms, strict=False)
    ]


def _median_ratio(series: Series, top: str, bottom: str, path: str) -> float | None:
    tops = _median([v for v in series.get(top, {}).get(path, []) if _usable(v)])
    bottoms = _median([v for v in series.get(bottom, {}).get(path, []) if _usable(v)])
    return None if tops is None or not bottoms else tops / bottoms


def _get(values: Values, mode: str, path: str) -> float | None:
    return values.get(mode, {}).get(path)


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _relative(base: float, head: float) -> float | None:
    return None if base == 0 else head / base - 1
