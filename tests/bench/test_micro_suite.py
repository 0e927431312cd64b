"""bench/micro: collected apart from the tests, with every expected micro-benchmark (no timing)."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    "test_allocations.py::test_allocations_per_generation",
    "test_allocations.py::test_allocations_per_floor_step",
    "test_broker.py::test_broker_publish[no-subscriber-burst]",
    "test_broker.py::test_broker_publish[no-subscriber-paced]",
    "test_broker.py::test_broker_publish[exact8-burst]",
    "test_broker.py::test_broker_publish[exact8-paced]",
    "test_broker.py::test_broker_publish[wildcard-burst]",
    "test_broker.py::test_broker_publish[wildcard-paced]",
    "test_bus.py::test_bus_publish[no-subscriber]",
    "test_bus.py::test_bus_publish[one-subscriber]",
    "test_engine.py::test_engine_construction",
    "test_engine.py::test_tail_call_generation",
    "test_engine.py::test_generation_floor",
    "test_engine.py::test_run_start",
    "test_engine.py::test_run_start_floor",
    "test_graph.py::test_step_tree",
    "test_graph.py::test_build_graph",
    "test_graph.py::test_solve",
    "test_graph.py::test_flow_manager",
    "test_mqtt.py::test_mqtt_gmqtt",
    "test_mqtt.py::test_mqtt_connector",
    "test_mqtt.py::test_mqtt_paho",
    "test_mqtt.py::test_mqtt_aiomqtt",
}


def collect(*args: str) -> list[str]:
    """Node ids that `pytest --collect-only` finds, run from the repository like `make micro`."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_micro_folder_holds_the_expected_benchmarks():
    found = collect("bench/micro", "--no-looptime")
    assert {node.removeprefix("bench/micro/") for node in found} == EXPECTED


def test_make_test_leaves_the_micro_benchmarks_out():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
