"""A differential profile: which functions' shares of the samples changed most from A to B."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.profiling.groups import classify_frame
from bench.profiling.stacks import Stacks, total_weight
from bench.profiling.top import TOP_N, FunctionShare, function_shares, group_shares


@dataclass(frozen=True, slots=True)
class ShareChange:
    """One function's self and total share in profile A and in profile B (percent points)."""

    function: str
    group: str
    self_a: float
    self_b: float
    self_delta: float
    total_a: float
    total_b: float
    total_delta: float


def share_changes(a: Stacks, b: Stacks) -> list[ShareChange]:
    """Every function seen in A or B with its shares in both (0 where it was not seen)."""
    shares_a, shares_b = function_shares(a), function_shares(b)
    return [
        _change(function, shares_a.get(function), shares_b.get(function))
        for function in sorted(shares_a.keys() | shares_b.keys())
    ]


def biggest_changes(changes: list[ShareChange], by: str, n: int = TOP_N) -> list[ShareChange]:
    """The `n` changes with the largest `self` or `total` delta in either direction."""
    field = f"{by}_delta"
    return sorted(changes, key=lambda c: (-abs(getattr(c, field)), c.function))[:n]


def differential(a: Stacks, b: Stacks, labels: tuple[str, str], n: int = TOP_N) -> dict[str, Any]:
    """The JSON-ready differential of profile B against profile A (deltas are B - A)."""
    changes = share_changes(a, b)
    groups_a, groups_b = group_shares(a), group_shares(b)
    return {
        "a": labels[0],
        "b": labels[1],
        "samples": {"a": total_weight(a), "b": total_weight(b)},
        "groups": [
            {
                "group": ga.group,
                "leaf_a": ga.leaf_pct,
                "leaf_b": gb.leaf_pct,
                "leaf_delta": round(gb.leaf_pct - ga.leaf_pct, 2),
                "any_a": ga.any_pct,
                "any_b": gb.any_pct,
                "any_delta": round(gb.any_pct - ga.any_pct, 2),
            }
            for ga, gb in zip(groups_a, groups_b, strict=True)
        ],
        "by_self": [asdict(c) for c in biggest_changes(changes, "self", n)],
        "by_total": [asdict(c) for c in biggest_changes(changes, "total", n)],
    }


def _change(function: str, a: FunctionShare | None, b: FunctionShare | None) -> ShareChange:
    self_a, total_a = (a.self_pct, a.total_pct) if a else (0.0, 0.0)
    self_b, total_b = (b.self_pct, b.total_pct) if b else (0.0, 0.0)
    return ShareChange(
        function,
        classify_frame(function),
        self_a,
        self_b,
        round(self_b - self_a, 2),
        total_a,
        total_b,
        round(total_b - total_a, 2),
    )
