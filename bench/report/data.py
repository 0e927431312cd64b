"""Loading a pyperf suite and the raw run documents behind it (the report's only file reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyperf

from bench.errors import BenchError
from bench.metrics import INSTRUCTIONS
from bench.schema import load_result
from bench.suite.layout import order_columns, split_column
from bench.suite.pyperf_suite import (
    counted_metadata,
    is_counted,
    load_suite_file,
    suite_values,
    timed_metadata,
)
from bench.suite.table import MetricTable, tables_from_values
from bench.workload import MODES


@dataclass(frozen=True, slots=True)
class SuiteData:
    """One suite as the report sees it: pyperf's benchmarks, their values, and the raw runs."""

    path: Path
    suite: pyperf.BenchmarkSuite
    values: dict[str, dict[tuple[str, int], list[float]]]
    metadata: dict[str, Any]
    """The metadata every benchmark of the timed runs shares."""
    documents: list[dict[str, Any]] = field(default_factory=list)
    runs_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    counted: dict[str, Any] = field(default_factory=dict)
    """The metadata the instruction counts share (valgrind, warm-up, ...); {} without any."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns measured: each mode as it ran in one local process ("shared"), then
        in each other layout ("shared@mqtt-2w"), the virtual clock's last; modes in the
        order of MODES (unknown ones after, sorted). A suite without layouts: its modes."""
        found = {column for by_config in self.values.values() for column, _ in by_config}
        return order_columns(found, _mode_order({split_column(c)[0] for c in found}))

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes measured, in the order of MODES (unknown ones after, sorted)."""
        return tuple(dict.fromkeys(split_column(column)[0] for column in self.columns))

    @property
    def layouts(self) -> tuple[str, ...]:
        """The tags of the columns that are not one local process ("mqtt-2w"), in order."""
        tags = (split_column(column)[1] for column in self.columns)
        return tuple(dict.fromkeys(tag for tag in tags if tag))

    @property
    def agents(self) -> tuple[int, ...]:
        """The agent counts measured, ascending (the instruction counts' size included)."""
        return tuple(sorted({a for by_config in self.values.values() for _, a in by_config}))

    @property
    def timed_agents(self) -> tuple[int, ...]:
        """The agent counts of the timed runs, ascending (not the instruction counts')."""
        timed = (v for path, v in self.values.items() if path != INSTRUCTIONS.path)
        return tuple(sorted({a for by_config in timed for _, a in by_config}))

    @property
    def tables(self) -> list[MetricTable]:
        """The suite's comparison tables (the same as its latest.md)."""
        return tables_from_values(self.values, self.columns, self.agents)


def _mode_order(found: set[str]) -> tuple[str, ...]:
    return tuple(m for m in MODES if m in found) + tuple(sorted(found - set(MODES)))


def load_suite(path: Path) -> SuiteData:
    """Read a suite with pyperf's own loader, then find its raw runs (or say why not).

    load_suite_file refuses, with advice, what is not a suite of this harness.
    """
    suite = load_suite_file(path)
    metadata = timed_metadata(suite)
    runs_dir, documents, notes = find_runs(path, metadata, run_dates(suite))
    values = suite_values(suite)
    counted = counted_metadata(suite)
    return SuiteData(path, suite, values, metadata, documents, runs_dir, notes, counted)


def run_dates(suite: pyperf.BenchmarkSuite) -> set[str]:
    """The start time of every timed run in the suite (pyperf's `date`, the document's
    `started_at`); the instruction counts have no run document."""
    return {
        str(run.get_metadata()["date"])
        for benchmark in suite.get_benchmarks()
        if not is_counted(benchmark.get_name())
        for run in benchmark.get_runs()
        if "date" in run.get_metadata()
    }


def find_runs(
    path: Path, metadata: dict[str, Any], dates: set[str]
) -> tuple[Path | None, list[dict[str, Any]], list[str]]:
    """(folder, documents, notes): the `runs_dir` metadata, else a folder whose runs match."""
    recorded = metadata.get("runs_dir")
    if isinstance(recorded, str):
        folder = path.parent / recorded
        if folder.is_dir():
            documents, notes = load_documents(folder, dates)
            return folder, documents, notes
        return None, [], [f"the runs of {path.name} are not in {folder} (its runs_dir)"]
    for folder in _candidates(path, metadata):
        documents, notes = load_documents(folder, dates)
        if documents and dates <= {d["meta"]["started_at"] for d in documents}:
            return folder, documents, notes
    note = (
        f"{path.name} records no runs_dir and no folder {path.parent / 'runs'}/suite-* has its runs"
    )
    return None, [], [note]


def load_documents(folder: Path, dates: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The folder's result documents that belong to the suite (by start time), and skip notes."""
    documents, notes = [], []
    for file in sorted(folder.glob("*.json")):
        try:
            document = load_result(file)
        except BenchError as error:
            notes.append(f"skipped {file.name}: {error}")
            continue
        if not dates or document["meta"].get("started_at") in dates:
            documents.append(document)
    return documents, notes


def _candidates(path: Path, metadata: dict[str, Any]) -> list[Path]:
    # Suites written before `runs_dir` existed: same commit, newest first.
    commit = str(metadata.get("commit", ""))[:10] or "*"
    return sorted((path.parent / "runs").glob(f"suite-*-{commit}"), reverse=True)
