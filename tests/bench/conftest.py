"""Fixtures shared by the harness's tests."""

import tempfile

import pytest


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch):
    """Where a result's fallback copy goes: a folder of the test's own, not the real /tmp."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# A synthetic `scale` suite: shared and raw at 16 and 36 agents, one local process, MQTT
# with 1 and 2 workers, and raw on the virtual clock (the physics' reference), with round
# numbers so that the scaling table and the capacity model can be checked by hand.
RUN_S = 10.0
REFERENCE_FLASHES_PER_AGENT_S = 0.25  # the virtual-clock run: 4 flashes/s at 16 agents
SHARE_OF_REFERENCE = {"": 0.96, "mqtt-1w": 0.88, "mqtt-2w": 0.8}
CORES_PER_AGENT = {"": 0.0005, "mqtt-1w": 0.001, "mqtt-2w": 0.001}
REPEAT_CPU = (0.9, 1.0, 1.2)  # the repeats' CPU, median 1.0
FAN_OUT = 0.75
BROKER_US_PER_MESSAGE = 5.0
_scale_clock = iter(range(10**6))


def _delivery_histogram(p99_ms: float) -> str:
    from hdrh.histogram import HdrHistogram

    histogram = HdrHistogram(1, 60_000_000, 3)
    for step in range(1, 101):
        histogram.record_value(int(p99_ms * 1000 * step / 99))
    return histogram.encode().decode("ascii")


def scale_run(mode: str, agents: int, tag: str = "", repeat: int = 1, status="complete") -> dict:
    """A schema-2 result document of one configuration of the synthetic scale suite.

    `tag`: "" (one local process), "mqtt-1w", "mqtt-2w" or "virtual" (the reference).
    """
    virtual = tag == "virtual"
    mqtt = tag.startswith("mqtt")
    share = 1.0 if virtual else SHARE_OF_REFERENCE[tag]
    flashes_per_s = agents * REFERENCE_FLASHES_PER_AGENT_S * share
    flashes = flashes_per_s * RUN_S
    cores = agents * CORES_PER_AGENT["" if virtual else tag] * REPEAT_CPU[repeat]
    second = next(_scale_clock)
    metrics = {
        "work": {
            "agents": agents,
            "flashes": flashes,
            "flashes_per_s": flashes_per_s,
            "messages": 8 * flashes,
            "steps": 4 * flashes,
            "run_s": RUN_S,
            "cpu_us_per_generation": cores * RUN_S * 1e6 / (4 * flashes),
            "agent_errors": 0,
        },
        "cpu": {"cpu_s": cores * RUN_S, "wall_s": RUN_S, "cpu_utilisation": cores},
        "memory": {"rss_per_agent_bytes": 4096.0},
    }
    if not virtual:
        metrics["loop_lag"] = {"p50_ms": 1.0, "p99_ms": 12.0 if mqtt else 10.0, "max_ms": 30.0}
    series = {}
    if mqtt:
        messages_in = flashes_per_s * 8
        metrics["delivery"] = {"count": 100, "p50_ms": 1.0, "p99_ms": 2.5, "max_ms": 2.6}
        metrics["broker"] = {
            "messages_in_per_s": messages_in,
            "messages_out_per_s": messages_in * FAN_OUT,
            "cpu_us_per_message": BROKER_US_PER_MESSAGE,
            "cpu_utilisation": messages_in * (1 + FAN_OUT) * BROKER_US_PER_MESSAGE / 1e6,
        }
        # 8 messages to the broker per flash in this synthetic swarm (the workload's: 9)
        metrics["transport"] = {
            "kind": "mqtt",
            "degraded": status == "degraded",
            "published": 8 * flashes,
        }
        series["delivery_histogram"] = _delivery_histogram(2.5)
    workers = int(tag[5:-1]) if mqtt else None
    return {
        "schema": 2,
        "meta": {
            "commit": "abc1234def",
            "dirty": False,
            "python": "3.11.7",
            "implementation": "CPython",
            "platform": "Linux-test",
            "cpu_model": "Test CPU",
            "cores": 2,
            "loop": "asyncio",
            "clock": "virtual" if virtual else "real",
            "started_at": f"2026-12-07T{second // 3600:02d}:{second // 60 % 60:02d}:"
            f"{second % 60:02d}+00:00",
            "command": f"python -m bench run --mode {mode}",
        },
        "config": {
            "mode": mode,
            "agents": agents,
            "duration": RUN_S,
            "period": 5.0,
            "nudge": 0.2,
            "seed": 1,
            "transport": "mqtt" if mqtt else "local",
            "broker": "auto" if mqtt else None,
            "delivery": mqtt,
            **({"workers": workers} if workers else {}),
        },
        "metrics": metrics,
        "series": series,
        "interrupted": False,
        "status": status,
        "errors": {"agents": [], "probes": {}},
    }


def scale_documents(repeats: int = 3) -> list[dict]:
    """Every run of the synthetic scale suite; one MQTT run at 16 agents is degraded."""
    documents = [scale_run("raw", agents, "virtual") for agents in (16, 36)]
    for repeat in range(repeats):
        for agents in (16, 36):
            for tag in ("", "mqtt-1w", "mqtt-2w"):
                for mode in ("shared", "raw"):
                    degraded = (mode, agents, tag, repeat) == ("shared", 16, "mqtt-2w", 0)
                    status = "degraded" if degraded else "complete"
                    documents.append(scale_run(mode, agents, tag, repeat, status))
    return documents


def write_scale_suite(folder, documents=None):
    """latest.json (pyperf) and runs/suite-scale/*.json in `folder`, as `bench suite` would."""
    from bench.result_file import write_json_atomic
    from bench.suite.layout import document_column
    from bench.suite.pyperf_suite import build_suite, dump_atomic

    documents = scale_documents() if documents is None else documents
    for index, document in enumerate(documents):
        name = f"{document_column(document)}-{document['config']['agents']}-{index}"
        write_json_atomic(folder / "runs" / "suite-scale" / f"{name}.json", document)
    suite_meta = {
        "suite_profile": "scale",
        "suite_repeat": 3,
        "suite_elapsed_s": 60.0,
        "runs_dir": "runs/suite-scale",
    }
    dump_atomic(build_suite(documents, suite_meta), folder / "latest.json")
    return folder / "latest.json"


@pytest.fixture(scope="session")
def scale_run_document():
    return scale_run


@pytest.fixture(scope="session")
def scale_suite_writer():
    return write_scale_suite
