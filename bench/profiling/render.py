"""Rich tables of profile tables, differentials and memory summaries (plain data in)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

_GROUP_HELP = "leaf: the innermost frame is in the group; any frame: a frame anywhere on the stack"


def groups_table(table: dict[str, Any], title: str) -> Table:
    """Each group's share of the samples (or bytes), by leaf frame and by any frame."""
    out = Table(title=title, caption=_GROUP_HELP, min_width=len(title))
    for column in ("group", "leaf %", "any frame %"):
        out.add_column(column, justify="left" if column == "group" else "right")
    for row in table["groups"]:
        out.add_row(row["group"], f"{row['leaf_pct']:.1f}", f"{row['any_pct']:.1f}")
    return out


def functions_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Functions with their group, self % and total %."""
    out = Table(title=title)
    out.add_column("#", justify="right")
    out.add_column("function (file)", overflow="fold")
    out.add_column("group")
    out.add_column("self %", justify="right")
    out.add_column("total %", justify="right")
    for rank, row in enumerate(rows, start=1):
        out.add_row(
            str(rank),
            escape(row["function"]),  # "[no Python frame]" is not rich markup
            row["group"],
            f"{row['self_pct']:.1f}",
            f"{row['total_pct']:.1f}",
        )
    return out


def changes_table(diff: dict[str, Any], by: str) -> Table:
    """The functions whose `self` or `total` share changed most, from A to B."""
    a, b = diff["a"], diff["b"]
    out = Table(title=f"largest changes in {by} share: {a} → {b} (percent points)")
    out.add_column("function (file)", overflow="fold")
    out.add_column("group")
    for column in (f"self {a}", f"self {b}", "Δ self", f"total {a}", f"total {b}", "Δ total"):
        out.add_column(column, justify="right")
    for row in diff[f"by_{by}"]:
        out.add_row(
            escape(row["function"]),
            row["group"],
            *(f"{row[k]:.1f}" for k in ("self_a", "self_b")),
            f"{row['self_delta']:+.1f}",
            *(f"{row[k]:.1f}" for k in ("total_a", "total_b")),
            f"{row['total_delta']:+.1f}",
        )
    return out


def group_changes_table(diff: dict[str, Any]) -> Table:
    """Each group's leaf and any-frame share in A and B."""
    a, b = diff["a"], diff["b"]
    out = Table(title=f"groups: {a} → {b}", caption=_GROUP_HELP, min_width=len(_GROUP_HELP))
    out.add_column("group")
    for column in (f"leaf {a}", f"leaf {b}", "Δ leaf", f"any {a}", f"any {b}", "Δ any"):
        out.add_column(column, justify="right")
    for row in diff["groups"]:
        out.add_row(
            row["group"],
            f"{row['leaf_a']:.1f}",
            f"{row['leaf_b']:.1f}",
            f"{row['leaf_delta']:+.1f}",
            f"{row['any_a']:.1f}",
            f"{row['any_b']:.1f}",
            f"{row['any_delta']:+.1f}",
        )
    return out


def memory_figures_table(summary: dict[str, Any], title: str) -> Table:
    """Peak memory, allocation count and the set-up's bytes at the peak."""
    out = Table(title=title, min_width=len(title))
    out.add_column("figure")
    out.add_column("value", justify="right")
    out.add_row("peak memory", _mib(summary["peak_memory_bytes"]))
    out.add_row("allocations (all, during the capture)", f"{summary['total_allocations']:,}")
    out.add_row("held at the peak", _mib(summary["bytes_at_peak"]))
    out.add_row("  of which set up the agents", _mib(summary["setup_bytes_at_peak"]))
    per_agent = summary["setup_bytes_per_agent"]
    out.add_row("  per agent", "-" if per_agent is None else f"{per_agent / 1024:,.1f} KiB")
    return out


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"
