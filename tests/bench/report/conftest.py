"""Synthetic suites for the report's tests: result documents with series, and their pyperf suite."""

import itertools

import pytest
from hdrh.histogram import HdrHistogram

from bench.probes.stalls import summarise
from bench.result_file import write_json_atomic
from bench.suite.pyperf_suite import build_suite, dump_atomic

MODES = ("per_agent", "shared", "raw")
SIZES = (16, 36)
# per mode at 16 agents; everything grows in proportion to the agents (log-log slope 1)
LAG_P99_MS = {"per_agent": 40.0, "shared": 20.0, "raw": 5.0}
RSS_BYTES = {"per_agent": 8192.0, "shared": 4096.0, "raw": 2048.0}
OBJECTS = {"per_agent": 28.0, "shared": 5.0, "raw": 3.0}
CPU_US = {"per_agent": 300.0, "shared": 250.0, "raw": 100.0}
_clock = itertools.count()


def lag_histogram(p99_ms: float) -> str:
    """An encoded HDR histogram (µs) whose samples spread up to p99_ms."""
    histogram = HdrHistogram(1, 60_000_000, 3)
    for step in range(1, 101):
        histogram.record_value(int(p99_ms * 1000 * step / 99))
    return histogram.encode().decode("ascii")


def stall_list(mode: str, repeat: int, scale: float = 1.0) -> list[dict]:
    """`series.stalls` of a run: a start-up stall, a gen-2 collection and a sampled one (whose
    function's name holds HTML), longer for per_agent, growing with the repeat and `scale`."""
    grow = (2.0 if mode == "per_agent" else 1.0) * (1 + repeat) * scale

    def stall(start_s, duration_ms, cause, function):
        return {
            "start_s": start_s, "duration_ms": duration_ms, "cause": cause, "gc_ms": 0.0,
            "gc_generation": 2 if cause == "gc-gen2" else None, "function": function,
            "share": 1.0 if function else None, "samples": 2 if function else 0, "frames": [],
        }  # fmt: skip

    return [
        stall(0.005, 100.0 * grow, "start-up", "decide bench/workload/workflow.py:49"),
        stall(1.2, 40.0 * grow, "gc-gen2", None),
        stall(2.1, 30.0 * scale, "code", "<module> cascade/x.py:3"),
    ]


def with_stalls(document: dict, repeat: int, scale: float = 1.0, gc: str = "default") -> dict:
    """The document as schema 3 writes it, with the stall probe's figures and series."""
    mode = document["config"]["mode"]
    stalls = stall_list(mode, repeat, scale)
    document["schema"] = 3
    document["config"].update(stalls=True, stall_threshold=0.02, gc=gc)
    document["metrics"]["stalls"] = {**summarise(stalls, 20.0), "samples": 4}
    document["series"]["stalls"] = stalls
    document["series"]["loop_utilisation"] = {"t_s": [0, 1, 2], "busy": [0.9, 0.5, 0.4]}
    return document


def make_run(
    mode: str, agents: int, repeat: int, scale: float = 1.0, stalls: bool = False, **meta
) -> dict:
    """A schema-1 result document with the metrics and series the report reads; with
    `stalls`, a schema-3 one with the stall probe's too."""
    grow = agents / SIZES[0] * (1 + 0.01 * repeat) * scale
    lag = LAG_P99_MS[mode] * grow
    started = f"2026-11-29T12:{next(_clock) % 60:02d}:{next(_clock) % 60:02d}+00:00"
    document = {
        "schema": 1,
        "meta": {
            "commit": "abc1234def",
            "dirty": False,
            "python": "3.11.7",
            "implementation": "CPython",
            "platform": "Linux-test",
            "cpu_model": "Test CPU",
            "cores": 2,
            "loop": "asyncio",
            "clock": "real",
            "started_at": started,
            "command": f"python -m bench run --mode {mode}",
            **meta,
        },
        "config": {"mode": mode, "agents": agents, "duration": 3.0, "period": 5.0, "nudge": 0.2},
        "metrics": {
            "loop_lag": {"p50_ms": lag / 4, "p99_ms": lag, "max_ms": lag * 1.5},
            "frame": {"fps": 60.0 / grow},
            "memory": {"rss_per_agent_bytes": RSS_BYTES[mode] * (1 + 0.01 * repeat)},
            "objects": {"objects_per_agent": OBJECTS[mode]},
            "work": {"cpu_us_per_generation": CPU_US[mode] * scale, "agent_errors": 0},
        },
        "series": {
            "loop_lag_histogram": lag_histogram(lag),
            "loop_lag_per_second": {
                "t_s": [0, 1, 2],
                "max_ms": [lag, lag, lag],
                "p99_ms": [lag, None, lag * 0.5],
                "count": [100, 0, 100],
            },
            "convergence": {
                "t_s": [1.0, 2.0, 3.0],
                "r": [0.9, 0.5, 0.3],
                "flashes_per_s": [10.0 * agents, 5.0 * agents, 8.0 * agents],
                "seen": [agents, agents, agents],
            },
        },
        "interrupted": False,
        "errors": {"agents": [], "probes": {}},
    }
    return with_stalls(document, repeat, scale) if stalls else document


def count_record(mode: str, per_generation: float, agents: int = 9, **block) -> dict:
    """One instruction count's record, as `bench suite` keeps it (suite_record)."""
    figures = {"per_generation": per_generation, "per_message": per_generation * 1.1}
    return {
        "config": {"mode": mode, "agents": agents, "seed": 1},
        "started_at": "2026-11-29T13:00:00+00:00",
        "commit": "abc1234def",
        "metrics": {
            "instructions": {
                **figures,
                "per_agent_setup": 110_000.0,
                "agents": agents,
                "warmup_s": 1.0,
                "duration_s": 2.0,
                "valgrind": "valgrind-3.19.0",
                **block,
            }
        },
    }


def write_suite(
    folder,
    scale: float = 1.0,
    repeats: int = 2,
    meta: dict | None = None,
    names=None,
    counts: list[dict] | None = None,
    stalls: bool = False,
    gc: str | None = None,
    **run_meta,
):
    """latest.json (pyperf) and runs/suite-test/*.json in `folder`, as `bench suite` writes them.

    `names` renames modes ({"shared": "<b>odd</b>"}): a suite as another harness might write.
    `counts`: the instruction counts' records (count_record). `stalls`: runs of schema 3,
    with the stall probe's figures; `gc`: each run's `config.gc` (`bench run --gc`).
    """
    documents = [
        make_run(mode, agents, repeat, scale, stalls, **run_meta)
        for agents in SIZES
        for mode in MODES
        for repeat in range(repeats)
    ]
    for document in documents:
        config = document["config"]
        if gc is not None:
            config["gc"] = gc
        config["mode"] = (names or {}).get(config["mode"], config["mode"])
        name = f"{config['mode']}-{config['agents']}-{document['meta']['started_at'][11:19]}"
        write_json_atomic(
            folder / "runs" / "suite-test" / f"{name}.json".replace(":", ""), document
        )
    suite_meta = {
        "suite_profile": "quick",
        "suite_repeat": repeats,
        "suite_elapsed_s": 12.5,
        "runs_dir": "runs/suite-test",
        **(meta or {}),
    }
    dump_atomic(build_suite(documents, suite_meta, counts), folder / "latest.json")
    return folder / "latest.json"


@pytest.fixture(scope="session")
def run_document():
    return make_run


@pytest.fixture(scope="session")
def suite_writer():
    return write_suite


@pytest.fixture(scope="session")
def stall_document():
    return with_stalls


@pytest.fixture(scope="session")
def counted():
    return count_record
