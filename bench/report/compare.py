"""Two suites side by side: the change of each benchmark's median and its significance.

Significance is Welch's two-sample t-test at 95 % on the log of the values
(`bench.stats.welch_test`): the suites' runs are independent, and may differ in number and
in noise. It is the test behind the gate's unpaired interval, so the report and
`bench gate --baseline` agree. Where it cannot run, the change is "untested", with why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyperf

from bench.metrics import Metric
from bench.stats import MIN_SAMPLES, is_constant, welch_test
from bench.suite.layout import split_column, tag_rank
from bench.suite.table import SUITE_METRICS, Cell, make_cell
from bench.workload import MODES

CONFIDENCE = 0.95

SIGNIFICANCE_SOURCE = (
    "Welch's t-test on the log of the values, 95 % (bench.stats.welch_test); t > 0: new larger"
)

_COMPARED_META = ("loop", "clock", "gc", "suite_profile", "workload_duration_s", "suite_repeat")
_COMPARED_MACHINE = ("cpu_model", "cores", "python", "implementation")
COMPARED_COUNTING = ("valgrind", "instructions_warmup_s", "instructions_duration_s")
"""How the instruction counts were made (their benchmarks' metadata), compared too."""


@dataclass(frozen=True, slots=True)
class Significance:
    """The test's verdict on two benchmarks; `significant` None (and why) when it could not test."""

    significant: bool | None
    t_score: float | None
    untested_because: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """One benchmark (metric, mode, agents) in both suites."""

    metric: Metric
    mode: str
    agents: int
    old: Cell
    new: Cell
    significance: Significance

    @property
    def ratio(self) -> float | None:
        """New median / old median (None when the old one is 0)."""
        return self.new.median / self.old.median if self.old.median else None

    @property
    def verdict(self) -> str:
        """ "better" / "worse" (significant, by the metric's good direction), else why not."""
        if self.significance.significant is None:
            return "untested"
        if not self.significance.significant or self.ratio in (None, 1.0):
            return "not significant"
        lower = self.ratio is not None and self.ratio < 1.0
        return "better" if lower == (self.metric.better == "lower") else "worse"


def significance(old: pyperf.Benchmark | None, new: pyperf.Benchmark | None) -> Significance:
    """Welch's t-test (95 %) on the two benchmarks' values, or why it could not run."""
    if old is None or new is None:
        return Significance(None, None, "no values > 0 on one side (pyperf keeps none)")
    old_values, new_values = old.get_values(), new.get_values()
    reason = untested_reason(old_values, new_values)
    if reason:
        return Significance(None, None, reason)
    test = welch_test(old_values, new_values, CONFIDENCE)
    return Significance(test.significant, test.t_score)


def untested_reason(old: Sequence[float], new: Sequence[float]) -> str:
    """Why Welch's t-test cannot run on these values ("" when it can): it needs a variance."""
    short = [len(side) < MIN_SAMPLES for side in (old, new)]
    if all(short):
        return "one value on each side"
    if any(short):
        return "one value on one side"
    if is_constant(old) and is_constant(new):
        return "no variance (identical values on each side)"
    return ""


def changes(
    old_values: Mapping[str, Mapping[tuple[str, int], list[float]]],
    new_values: Mapping[str, Mapping[tuple[str, int], list[float]]],
    test: Callable[[Metric, str, int], Significance],
) -> list[Change]:
    """Every (metric, mode, agents) present in both suites, in SUITE_METRICS order."""
    found = []
    for metric in SUITE_METRICS:
        old, new = old_values.get(metric.path, {}), new_values.get(metric.path, {})
        for mode, agents in sorted(set(old) & set(new), key=lambda k: (k[1], _mode_rank(k[0]))):
            before, after = make_cell(old[(mode, agents)]), make_cell(new[(mode, agents)])
            if before and after:
                found.append(
                    Change(metric, mode, agents, before, after, test(metric, mode, agents))
                )
    return found


def comparison_sentences(found: Sequence[Change]) -> list[str]:
    """How many benchmarks changed significantly, and the largest change each way."""
    if not found:
        return ["The two suites have no benchmark in common."]
    better = [c for c in found if c.verdict == "better"]
    worse = [c for c in found if c.verdict == "worse"]
    sentences = [
        f"Of {len(found)} benchmarks in both suites, {len(better)} got significantly better and "
        f"{len(worse)} significantly worse{_untested(found)}."
    ]
    for label, group in (("regression", worse), ("improvement", better)):
        if group:
            largest = max(group, key=_factor)
            sentences.append(f"Largest significant {label}: {describe(largest)}.")
    return sentences


def describe(change: Change) -> str:
    """ "event-loop lag p99, shared, 2,500 agents: +12.3 %"."""
    percent = "n/a" if change.ratio is None else f"{(change.ratio - 1) * 100:+.1f} %"
    return f"{change.metric.label}, {change.mode}, {change.agents:,} agents: {percent}"


def mismatches(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between the suites' set-ups (loop, clock, gc, profile, machine): said
    loudly."""
    return [
        f"{key} differs: {old[key]} (old) vs {new[key]} (new)"
        for key in (*_COMPARED_META, *_COMPARED_MACHINE, *COMPARED_COUNTING)
        if key in old and key in new and old[key] != new[key]
    ]


def _untested(found: Sequence[Change]) -> str:
    reasons = Counter(c.significance.untested_because for c in found if c.verdict == "untested")
    if not reasons:
        return ""
    listed = "; ".join(f"{count}: {reason}" for reason, count in reasons.most_common())
    return f"; {sum(reasons.values())} could not be tested ({listed})"


def _factor(change: Change) -> float:
    ratio = change.ratio or 1.0
    return ratio if ratio >= 1 else 1 / ratio


def _mode_rank(column: str) -> tuple[tuple[int, int, int, str], int, str]:
    # A column is a mode, or a mode in a layout: the plain modes first, in MODES order.
    mode, tag = split_column(column)
    order = list(MODES)
    return tag_rank(tag), *((order.index(mode), "") if mode in order else (len(order), mode))
