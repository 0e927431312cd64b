"""The report's opening sentences, computed from the suite's tables (pure, never hard-coded)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.metrics import INSTRUCTIONS
from bench.report.scaling import describe_slope, scaling_lines
from bench.suite.table import Cell, MetricTable
from bench.summary import format_value
from bench.workload import MODES, floor_mode


def mode_name(mode: str) -> str:
    """The mode's own label ("the shared engine"); `mode <name>` for one not registered."""
    return MODES[mode].label if mode in MODES else f"mode {mode}"


def summary_sentences(tables: Sequence[MetricTable]) -> list[str]:
    """What the suite says, in words, at its largest size; only what its modes allow."""
    by_path = {table.metric.path: table for table in tables}
    agents = largest_size(tables)
    if agents is None:
        return ["The suite holds no values to summarise."]
    found = [
        _memory(by_path, agents),
        _lag(by_path, agents),
        _against_floor(by_path, "work.cpu_us_per_generation", agents),
        _instructions(by_path),
        _fps(by_path, agents),
        _lag_growth(by_path),
    ]
    return [sentence for sentence in found if sentence]


def largest_size(tables: Sequence[MetricTable]) -> int | None:
    """The largest agent count with at least one value."""
    sizes = [row.agents for t in tables for row in t.rows if any(row.cells.values())]
    return max(sizes, default=None)


def cell(by_path: dict[str, MetricTable], path: str, mode: str, agents: int) -> Cell | None:
    """The (metric, mode, agents) cell, None when not measured."""
    table = by_path.get(path)
    row = next((r for r in table.rows if r.agents == agents), None) if table else None
    return row.cells.get(mode) if row else None


def times(base: float, other: float, fewer: str, more: str) -> str:
    """ "1.63x less" when `base` is below `other`, "1.20x more" when above."""
    if base <= other:
        return f"{other / base:.2f}x {fewer}"
    return f"{base / other:.2f}x {more}"


def _memory(by_path: dict[str, MetricTable], agents: int) -> str | None:
    clauses = []
    for path, noun, fewer in (
        ("memory.rss_per_agent_bytes", "memory (RSS) per agent", "less"),
        ("objects.objects_per_agent", "objects per agent", "fewer"),
    ):
        shared, per_agent = (cell(by_path, path, m, agents) for m in ("shared", "per_agent"))
        if shared and per_agent and shared.median > 0 and per_agent.median > 0:
            unit = by_path[path].metric.unit
            clauses.append(
                f"{times(shared.median, per_agent.median, fewer, 'more')} {noun} "
                f"({format_value(shared.median, unit)} vs {format_value(per_agent.median, unit)})"
            )
    if not clauses:
        return None
    return (
        f"At {agents:,} agents the shared engine uses {' and '.join(clauses)} "
        "than per-agent engines."
    )


def _lag(by_path: dict[str, MetricTable], agents: int) -> str | None:
    table = by_path.get("loop_lag.p99_ms")
    if table is None:
        return None
    order = sorted(table.modes, key=lambda m: m != "shared")
    parts = [
        f"{format_value(c.median, 'ms')} with {mode_name(m)}"
        for m in order
        if (c := cell(by_path, "loop_lag.p99_ms", m, agents))
    ]
    if not parts:
        return None
    rest = f" vs {' and '.join(parts[1:])}" if parts[1:] else ""
    return f"Event-loop lag p99 at {agents:,} agents is {parts[0]}{rest}."


def _instructions(by_path: dict[str, MetricTable]) -> str | None:
    # Counted at one small size of their own, under valgrind: said so.
    table = by_path.get(INSTRUCTIONS.path)
    agents = largest_size([table]) if table else None
    return (
        _against_floor(by_path, INSTRUCTIONS.path, agents, " (under valgrind)") if agents else None
    )


def _against_floor(
    by_path: dict[str, MetricTable], path: str, agents: int, how: str = ""
) -> str | None:
    # Each engine mode's figure as a multiple of the floor mode's, at one size.
    floor_name = floor_mode()
    floor = cell(by_path, path, floor_name, agents) if floor_name else None
    table = by_path.get(path)
    if table is None or floor_name is None or floor is None or floor.median <= 0:
        return None
    engines = [
        (m, c) for m in table.modes if m != floor_name and (c := cell(by_path, path, m, agents))
    ]
    if not engines:
        return None
    unit = table.metric.unit
    parts = [
        f"{mode_name(m)} {c.median / floor.median:.2f}x ({format_value(c.median, unit)})"
        for m, c in sorted(engines, key=lambda item: item[0] != "shared")
    ]
    floor_words = MODES[floor_name].label.replace(" ", "-")  # "the raw-asyncio floor"
    return (
        f"In {table.metric.label} at {agents:,} agents{how}, against the {floor_words} floor of "
        f"{format_value(floor.median, unit)}: {', '.join(parts)}."
    )


def _fps(by_path: dict[str, MetricTable], agents: int) -> str | None:
    table = by_path.get("frame.fps")
    found = (
        [(m, c) for m in table.modes if (c := cell(by_path, "frame.fps", m, agents))]
        if table
        else []
    )
    if not found:
        return None
    parts = [f"{c.median:.1f} with {mode_name(m)}" for m, c in found]
    parts[0] = parts[0].replace(" with ", " frames per second with ", 1)
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    return f"At {agents:,} agents the renderer manages {listed}."


def _lag_growth(by_path: dict[str, MetricTable]) -> str | None:
    table = by_path.get("loop_lag.p99_ms")
    lines = [line for line in scaling_lines(table) if line.slope is not None] if table else []
    if not lines:
        return None
    low = min(min(line.agents) for line in lines)
    high = max(max(line.agents) for line in lines)
    parts = [f"{describe_slope(line.slope)} with {mode_name(line.mode)}" for line in lines]
    return (
        f"From {low:,} to {high:,} agents event-loop lag p99 grows with log-log slope "
        f"{', '.join(parts)} (1 = in proportion to the agents)."
    )
