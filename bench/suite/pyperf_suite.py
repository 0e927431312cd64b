"""Result documents -> pyperf's own data model, so `python -m pyperf stats|hist|compare_to` work.

One pyperf Benchmark per (metric, mode, agents), named "<metric>/<mode>/<agents>"; one Run
per worker run holding one value. A configuration in another layout, or on the virtual
clock, adds its tag as a fourth part, "loop_lag.p99_ms/shared/10000/mqtt-2w"
(bench/suite/layout.py): an older harness skips those names as not its own. pyperf only
stores values > 0, so a zero (e.g. no render jitter at all) is left out of that benchmark
and counted in its `zero_values` metadata; the Markdown table, built from the raw
documents, still shows it.

The suite's instruction counts (bench/suite/instructions.py) are benchmarks too,
"instructions.per_generation/shared/100", one run per mode: counted on the virtual clock
under valgrind, after the timed runs, so their runs carry their own metadata (`valgrind`,
`instructions_warmup_s`, `instructions_duration_s`) and no run length.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyperf

from bench.errors import BenchError
from bench.metrics import BY_PATH, HEADLINE, INSTRUCTIONS, Metric
from bench.result_file import public_file_mode
from bench.schema import json_kind
from bench.suite.layout import column_key, document_column, split_column

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


def benchmark_name(metric: Metric, column: str, agents: int) -> str:
    """E.g. "loop_lag.p99_ms/shared/2500"; "loop_lag.p99_ms/shared/10000/mqtt-2w" for the
    column "shared@mqtt-2w"."""
    mode, tag = split_column(column)
    return f"{metric.path}/{mode}/{agents}" + (f"/{tag}" if tag else "")


def parse_benchmark_name(name: str) -> tuple[str, str, int] | None:
    """(path, column, agents) of a name like "loop_lag.p99_ms/shared/2500" (column "shared")
    or "loop_lag.p99_ms/shared/10000/mqtt-2w" (column "shared@mqtt-2w"); None if not ours."""
    parts = name.split("/")
    if len(parts) not in (3, 4) or not parts[2].isdigit() or not parts[-1]:
        return None
    tag = parts[3] if len(parts) == 4 else ""
    return parts[0], column_key(parts[1], tag), int(parts[2])


def suite_values(suite: pyperf.BenchmarkSuite) -> dict[str, dict[tuple[str, int], list[float]]]:
    """Read back what build_suite wrote: values[path][(column, agents)] in the metric's own
    unit; a column is the mode, with its layout's tag when not one local process.

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


def load_suite_file(path: Path) -> pyperf.BenchmarkSuite:
    """Read a suite with pyperf's loader, refusing with advice what is not one of ours.

    Checked first, so that no input reaches pyperf's loader (or the readers after it) as a
    traceback: a file that is not a JSON object with a list of benchmarks, a run's result
    document (`bench run`'s output), another tool's pyperf file.
    """
    try:
        text = _read_text(path)
        document = json.loads(text)
    except (OSError, EOFError, ValueError) as error:
        raise BenchError(f"cannot read suite {path}: {error}") from None
    if isinstance(document, dict) and "schema" in document and "benchmarks" not in document:
        raise BenchError(
            f"{path} is the result document of one run (`bench run`), not a suite: give a "
            "suite written by `bench suite` (results/latest.json)"
        )
    found = _shape_problem(document)
    if found:
        raise BenchError(
            f'{path} is not a pyperf suite: expected a JSON object with a "benchmarks" list '
            f"of objects (as `bench suite` writes), found {found}"
        )
    try:
        suite = pyperf.BenchmarkSuite.loads(text)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        why = f"no {error} key" if isinstance(error, KeyError) else str(error)
        raise BenchError(
            f"pyperf cannot read {path} as a suite ({why}): give a suite written by `bench suite`"
        ) from None
    _check_benchmarks(path, suite)
    return suite


def _read_text(path: Path) -> str:
    # A .json.gz suite too, as pyperf's own loader reads it.
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as file:
            return file.read()
    return path.read_text(encoding="utf-8")


def _shape_problem(document: Any) -> str | None:
    # What pyperf's loader would trip over with an AttributeError, in the user's words.
    if not isinstance(document, dict):
        return json_kind(document)
    if "benchmarks" not in document:
        return 'an object without "benchmarks"'
    benchmarks = document["benchmarks"]
    if not isinstance(benchmarks, list):
        return f'"benchmarks" holding {json_kind(benchmarks)}'
    if not benchmarks:
        return 'an empty "benchmarks" list'
    odd = [item for item in benchmarks if not isinstance(item, dict)]
    return f'{json_kind(odd[0])} in "benchmarks"' if odd else None


def _check_benchmarks(path: Path, suite: pyperf.BenchmarkSuite) -> None:
    # What suite_values() reads beyond pyperf's own checks: names, and counts of zeros.
    names = [benchmark.get_name() for benchmark in suite.get_benchmarks()]
    odd = [name for name in names if not isinstance(name, str)]
    if odd:
        raise BenchError(f"{path} is not a pyperf suite: a benchmark is named {odd[0]!r}")
    if not any(_is_ours(name) for name in names):
        raise BenchError(
            f"{path} holds no benchmark of this harness (named like "
            f"loop_lag.p99_ms/shared/2500; its first is {names[0]!r}): is it another tool's "
            "pyperf file? Give a suite written by `bench suite`"
        )
    for benchmark in suite.get_benchmarks():
        _check_zero_values(path, benchmark)


def _check_zero_values(path: Path, benchmark: pyperf.Benchmark) -> None:
    zeros = benchmark.get_metadata().get("zero_values", 0)
    if type(zeros) is not int or zeros < 0:
        raise BenchError(
            f"{path} is not a suite `bench suite` wrote: {benchmark.get_name()} has "
            f"zero_values {zeros!r}, not a count"
        )


def _is_ours(name: str) -> bool:
    parsed = parse_benchmark_name(name)
    return parsed is not None and parsed[0] in BY_PATH


def build_suite(
    documents: list[dict[str, Any]],
    suite_meta: dict[str, Any],
    counts: list[dict[str, Any]] | None = None,
) -> pyperf.BenchmarkSuite | None:
    """A pyperf suite of every headline metric present in the documents, and of the
    instruction counts' records (bench.suite.instructions.suite_record); None if empty."""
    found: dict[str, list[tuple[Metric, float, dict[str, Any]]]] = defaultdict(list)
    for document in documents:
        config = document["config"]
        for metric in HEADLINE:
            value = metric.value(document)
            if value is not None:
                name = benchmark_name(metric, document_column(document), config["agents"])
                found[name].append((metric, value, document))
    benchmarks = []
    for name in sorted(found):
        zeros = sum(1 for _, value, _ in found[name] if value <= 0)
        meta = {**suite_meta, "zero_values": zeros} if zeros else suite_meta
        runs = [_run(name, m, v, doc, meta) for m, v, doc in found[name] if v > 0]
        if runs:
            benchmarks.append(pyperf.Benchmark(runs))
    for record in counts or []:
        value = INSTRUCTIONS.value(record)
        if isinstance(value, int | float) and value > 0:
            benchmarks.append(_counted(record, float(value), suite_meta))
    return pyperf.BenchmarkSuite(benchmarks) if benchmarks else None


def _counted(record: dict[str, Any], value: float, suite_meta: dict[str, Any]) -> pyperf.Benchmark:
    """One mode's instruction count: a benchmark of one run, with how it was measured."""
    config, block = record["config"], record["metrics"]["instructions"]
    name = benchmark_name(INSTRUCTIONS, config["mode"], config["agents"])
    metadata = {
        **suite_meta,
        "name": name,
        "unit": _PYPERF_UNITS[INSTRUCTIONS.unit][0],
        "mode": config["mode"],
        "agents": config["agents"],
        "commit": record["commit"] or "unknown",
        "loop": "asyncio",
        "clock": "virtual",
        "date": record["started_at"],
        "valgrind": block["valgrind"],
        "instructions_warmup_s": block["warmup_s"],
        "instructions_duration_s": block["duration_s"],
    }
    return pyperf.Benchmark([pyperf.Run([value], metadata=metadata, collect_metadata=False)])


def is_counted(name: str) -> bool:
    """Whether a benchmark name is an instruction count's (not a timed run's)."""
    parsed = parse_benchmark_name(name)
    return parsed is not None and parsed[0] == INSTRUCTIONS.path


def timed_metadata(suite: pyperf.BenchmarkSuite) -> dict[str, Any]:
    """The metadata every benchmark of the timed runs shares (pyperf's suite metadata, less
    the instruction counts, whose clock and keys differ); all benchmarks' without any."""
    timed = [b for b in suite.get_benchmarks() if not is_counted(b.get_name())]
    return _common(timed or suite.get_benchmarks())


def counted_metadata(suite: pyperf.BenchmarkSuite) -> dict[str, Any]:
    """The metadata every instruction count's benchmark shares ({} without any)."""
    return _common([b for b in suite.get_benchmarks() if is_counted(b.get_name())])


def _common(benchmarks: list[pyperf.Benchmark]) -> dict[str, Any]:
    found = [benchmark.get_metadata() for benchmark in benchmarks]
    if not found:
        return {}
    first, *rest = found
    return {k: v for k, v in first.items() if all(k in m and m[k] == v for m in rest)}


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
    tag = split_column(document_column(document))[1]
    if tag:  # only beside the names that carry it: a local run's metadata is as it was
        metadata["layout"] = tag
    if "gc" in config:  # schema 3 on: the collector while the agents ran
        metadata["gc"] = config["gc"]
    return pyperf.Run([value * scale], metadata=metadata, collect_metadata=False)
