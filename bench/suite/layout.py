"""Where a configuration's agents live: its transport and worker processes (its "layout").

A suite keys every configuration by (column, agents), where the column is the mode for a
local, single-process, real-clock run, exactly as before layouts existed ("shared"), and
`<mode>@<tag>` otherwise ("shared@mqtt-2w", "raw@virtual"): older suites keep their
names and keys, and a new suite's local runs still compare with them. In a pyperf
benchmark name the tag is a fourth part: `loop_lag.p99_ms/shared/10000/mqtt-2w`.

Pure and dependency-free: the suite's worker, its tables and the report all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

SEPARATOR = "@"
"""Between a column's mode and its tag."""
REAL = "real"


@dataclass(frozen=True, slots=True)
class Layout:
    """What carries the messages and how many processes carry the agents.

    `workers` None = one process (`bench run` without --workers); an int = the grid cut in
    that many stripes, each a worker process, through the coordinator (`--workers N`).
    """

    transport: str = "local"
    workers: int | None = None

    @property
    def tag(self) -> str:
        """ "" for one local process (the names of every suite before layouts), "mqtt-2w"."""
        parts = [] if self.transport == "local" else [self.transport]
        if self.workers is not None:
            parts.append(f"{self.workers}w")
        return "-".join(parts)

    @property
    def words(self) -> str:
        """ "in one process, in memory", "over MQTT, 2 worker processes"."""
        where = "in memory" if self.transport == "local" else f"over {self.transport.upper()}"
        if self.workers is None:
            return f"one process, {where}"
        plural = "process" if self.workers == 1 else "processes"
        return f"{where}, {self.workers} worker {plural}"

    def argv(self) -> list[str]:
        """The `bench run` options of this layout (none for one local process).

        An MQTT layout always goes through the coordinator (`--workers`, 1 included), which
        starts its own mosquitto (`--broker auto`) for the run.
        """
        if self.transport == "local" and self.workers is None:
            return []
        argv = ["--transport", self.transport]
        if self.transport == "mqtt":
            argv += ["--broker", "auto"]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        return argv


LOCAL = Layout()
"""One process, the in-memory broker: every configuration before layouts."""


def tag_of(layout: Layout, clock: str = REAL) -> str:
    """The key's tag: the layout's, and the clock's when not real ("virtual", "mqtt-2w")."""
    parts = [layout.tag] if layout.tag else []
    if clock != REAL:
        parts.append(clock)
    return "-".join(parts)


def column_key(mode: str, tag: str = "") -> str:
    """ "shared" (no tag), "shared@mqtt-2w"."""
    return f"{mode}{SEPARATOR}{tag}" if tag else mode


def split_column(column: str) -> tuple[str, str]:
    """(mode, tag) of a column: "shared@mqtt-2w" -> ("shared", "mqtt-2w"); "raw" -> ("raw", "")."""
    mode, _, tag = column.partition(SEPARATOR)
    return mode, tag


def document_layout(document: dict[str, Any]) -> Layout:
    """The layout a result document ran in (schema 1 has none: one local process)."""
    config = document.get("config", {})
    transport = config.get("transport") or "local"
    workers = config.get("workers")
    return Layout(str(transport), workers if isinstance(workers, int) else None)


def document_clock(document: dict[str, Any]) -> str:
    """The clock a result document ran on ("real" when it does not say)."""
    return str(document.get("meta", {}).get("clock") or REAL)


def document_column(document: dict[str, Any]) -> str:
    """The column a result document belongs to: its mode, with the tag of its layout and clock."""
    tag = tag_of(document_layout(document), document_clock(document))
    return column_key(document["config"]["mode"], tag)


def is_plain(column: str) -> bool:
    """A local, single-process, real-clock column: a mode and nothing else."""
    return SEPARATOR not in column


def is_virtual(column: str) -> bool:
    """A column measured on the virtual clock (the physics' reference)."""
    return parse_tag(split_column(column)[1])[1] != REAL


def tag_rank(tag: str) -> tuple[int, int, int, str]:
    """Sort key of tags: plain first, then by transport and workers, virtual-clock last."""
    layout, clock = parse_tag(tag)
    return int(clock != REAL), int(layout.transport != "local"), layout.workers or 0, tag


def order_columns(columns: Iterable[str], modes: Sequence[str]) -> tuple[str, ...]:
    """Columns grouped by tag (plain first), each group in the order of `modes` (others after)."""

    def key(column: str) -> tuple[tuple[int, int, int, str], int, str]:
        mode, tag = split_column(column)
        rank = modes.index(mode) if mode in modes else len(modes)
        return tag_rank(tag), rank, mode

    return tuple(sorted(set(columns), key=key))


def parse_tag(tag: str) -> tuple[Layout, str]:
    """(layout, clock) of a tag: "mqtt-2w" -> (Layout("mqtt", 2), "real"); "" -> (LOCAL, "real")."""
    parts = tag.split("-") if tag else []
    clock = parts.pop() if parts and parts[-1] == "virtual" else REAL
    workers = None
    if parts and parts[-1].endswith("w") and parts[-1][:-1].isdigit():
        workers = int(parts.pop()[:-1])
    transport = "-".join(parts) or "local"
    return Layout(transport, workers), clock


def tag_words(tag: str) -> str:
    """A tag for a reader: "local, 1 process", "mqtt, 2 workers", "local, virtual clock"."""
    layout, clock = parse_tag(tag)
    if layout.workers is None:
        where = f"{layout.transport}, 1 process"
    else:
        where = f"{layout.transport}, {layout.workers} worker{'s' if layout.workers != 1 else ''}"
    return where if clock == REAL else f"{where}, {clock} clock"


def column_label(column: str) -> str:
    """A column for a legend: "shared" as it is, "shared (mqtt, 2 workers)" with a layout."""
    mode, tag = split_column(column)
    return f"{mode} ({tag_words(tag)})" if tag else mode
