"""Result documents -> pyperf's own data model, so `python -m pyperf stats|hist|compare_to` work.

One pyperf Benchmark per (metric, mode, agents), named "<metric>/<mode>/<agents>"; one Run
per worker run holding one value. pyperf only stores values > 0, so a zero (e.g. no render
jitter at all) is left out of that benchmark and counted in its `zero_values` metadata;
the Markdown table, built from the raw documents, still shows it.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyperf

from bench.metrics import BY_PATH, HEADLINE, Metric
from bench.result_file import public_file_mode

_PYPERF_UNITS: dict[str, tuple[str, float]] = {
    "ms": ("second", 1e-3),
    "us": ("second", 1e-6),
    "s": ("second", 1.0),
    "bytes": ("byte", 1.0),
    "count": ("integer", 1.0),
    "1/s": ("integer", 1.0),
    "ratio": ("integer", 1.0),
}
"""Our unit -> (pyperf unit, scale). pyperf knows only second, byte and integer."""


def benchmark_name(metric: Metric, mode: str, agents: int) -> str:
    """E.g. "loop_lag.p99_ms/shared/2500"."""
    return f"{metric.path}/{mode}/{agents}"


def parse_benchmark_name(name: str) -> tuple[str, str, int] | None:
    """(path, mode, agents) of a name like "loop_lag.p99_ms/shared/2500"; None if not ours."""
    parts = name.rsplit("/", 2)
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


def suite_values(suite: pyperf.BenchmarkSuite) -> dict[str, dict[tuple[str, int], list[float]]]:
    """Read back what build_suite wrote: values[path][(mode, agents)] in the metric's own unit.

    The zeros that pyperf cannot store come back from `zero_values`, so medians match the
    suite's Markdown table.
    """
    values: dict[str, dict[tuple[str, int], list[float]]] = {}
    for benchmark in suite.get_benchmarks():
        parsed = parse_benchmark_name(benchmark.get_name())
        if parsed is None or parsed[0] not in BY_PATH:
            continue
        path, mode, agents = parsed
        scale = _PYPERF_UNITS[BY_PATH[path].unit][1]
        zeros = [0.0] * int(benchmark.get_metadata().get("zero_values", 0))
        found = [value / scale for value in benchmark.get_values()] + zeros
        values.setdefault(path, {})[(mode, agents)] = found
    return values


def build_suite(
    documents: list[dict[str, Any]], suite_meta: dict[str, Any]
) -> pyperf.BenchmarkSuite | None:
    """A pyperf suite of every headline metric present in the documents (None if empty)."""
    found: dict[str, list[tuple[Metric, float, dict[str, Any]]]] = defaultdict(list)
    for document in documents:
        config = document["config"]
        for metric in HEADLINE:
            value = metric.value(document)
            if value is not None:
                name = benchmark_name(metric, config["mode"], config["agents"])
                found[name].append((metric, value, document))
    benchmarks = []
    for name in sorted(found):
        zeros = sum(1 for _, value, _ in found[name] if value <= 0)
        meta = {**suite_meta, "zero_values": zeros} if zeros else suite_meta
        runs = [_run(name, m, v, doc, meta) for m, v, doc in found[name] if v > 0]
        if runs:
            benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks) if benchmarks else None


def dump_atomic(suite: pyperf.BenchmarkSuite, path: Path) -> None:
    """Write the suite with pyperf's own writer into a temporary file, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".json", dir=path.parent)
    os.fchmod(fd, public_file_mode())
    os.close(fd)
    try:
        suite.dump(temporary, replace=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run(
    name: str, metric: Metric, value: float, document: dict[str, Any], suite_meta: dict[str, Any]
) -> pyperf.Run:
    unit, scale = _PYPERF_UNITS[metric.unit]
    meta, config = document["meta"], document["config"]
    metadata = {
        **suite_meta,
        "name": name,
        "unit": unit,
        "mode": config["mode"],
        "agents": config["agents"],
        "commit": meta["commit"] or "unknown",
        "loop": meta["loop"],
        "clock": meta["clock"],
        "date": meta["started_at"],
        "workload_duration_s": config["duration"],
    }
    return pyperf.Run([value * scale], metadata=metadata, collect_metadata=False)
