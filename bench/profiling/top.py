"""The table of a profile: group shares and the top functions by self and by total time.

Self time counts a sample for its leaf function; total time counts it once for every
function on its stack (once only, however often a recursive function appears). Shares are
percentages of all samples (or bytes, for memray's stacks).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from bench.profiling.groups import GROUPS, classify_frame
from bench.profiling.stacks import Stacks, function_of, total_weight, without

TOP_N = 25
IMPORT_FUNCTION = "_find_and_load"
"""importlib's frame under every import: how much of a profile is the process starting."""


@dataclass(frozen=True, slots=True)
class FunctionShare:
    """One function's share of the samples."""

    function: str
    group: str
    self_pct: float
    total_pct: float
    self_samples: int
    total_samples: int


@dataclass(frozen=True, slots=True)
class GroupShare:
    """One group's share: `leaf` samples end in it, `any` samples have a frame in it."""

    group: str
    leaf_pct: float
    any_pct: float
    leaf_samples: int
    any_samples: int


def function_counts(stacks: Stacks) -> tuple[Counter[str], Counter[str]]:
    """(self, total) samples per function; total counts a function once per stack."""
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    for stack, count in stacks.items():
        if not stack:
            continue
        functions = [function_of(frame) for frame in stack]
        self_counts[functions[-1]] += count
        for function in set(functions):
            total_counts[function] += count
    return self_counts, total_counts


def function_shares(stacks: Stacks) -> dict[str, FunctionShare]:
    """Every function's self and total share, by function."""
    self_counts, total_counts = function_counts(stacks)
    samples = total_weight(stacks)
    return {
        function: FunctionShare(
            function,
            classify_frame(function),
            _percent(self_counts[function], samples),
            _percent(total, samples),
            self_counts[function],
            total,
        )
        for function, total in total_counts.items()
    }


def top_functions(stacks: Stacks, by: str, n: int = TOP_N) -> list[FunctionShare]:
    """The `n` functions with the most `self` or `total` samples, most first."""
    key = {"self": _self_key, "total": _total_key}[by]
    return sorted(function_shares(stacks).values(), key=key)[:n]


def group_shares(stacks: Stacks) -> list[GroupShare]:
    """Each group's share of samples by leaf frame and by any frame, in GROUPS order."""
    leaf: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for stack, count in stacks.items():
        groups = [classify_frame(frame) for frame in stack] or ["rest"]
        leaf[groups[-1]] += count
        for group in set(groups):
            anywhere[group] += count
    samples = total_weight(stacks)
    return [
        GroupShare(
            g, _percent(leaf[g], samples), _percent(anywhere[g], samples), leaf[g], anywhere[g]
        )
        for g in GROUPS
    ]


def profile_table(stacks: Stacks, n: int = TOP_N, unit: str = "samples") -> dict[str, Any]:
    """The JSON-ready table of one profile: its total, groups, top by self and by total.

    `unit` names the weights in the keys: "samples" for py-spy, "bytes" for memray.
    """
    return {
        unit: total_weight(stacks),
        "groups": [_named(asdict(share), unit) for share in group_shares(stacks)],
        "top_self": [_named(asdict(share), unit) for share in top_functions(stacks, "self", n)],
        "top_total": [_named(asdict(share), unit) for share in top_functions(stacks, "total", n)],
    }


def run_table(stacks: Stacks, n: int = TOP_N) -> dict[str, Any]:
    """The table of the samples outside imports, and the share of all samples left out.

    Imports happen as the process starts, before the run; how long they take varies with the
    file cache (0.7 to 2.5 s here), which would shift every other share.
    """
    kept = without(stacks, IMPORT_FUNCTION)
    everything = total_weight(stacks)
    left_out = _percent(everything - total_weight(kept), everything)
    return {"all_samples": everything, "imports_pct": left_out, **profile_table(kept, n)}


def _named(row: dict[str, Any], unit: str) -> dict[str, Any]:
    return {key.replace("_samples", f"_{unit}"): value for key, value in row.items()}


def _self_key(share: FunctionShare) -> tuple[int, int, str]:
    return -share.self_samples, -share.total_samples, share.function


def _total_key(share: FunctionShare) -> tuple[int, int, str]:
    return -share.total_samples, -share.self_samples, share.function


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0
