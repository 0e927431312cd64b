import pytest

import bench.commands.suite as suite_module
from bench.cost.measure import Cost
from bench.cost.segments import Figures
from bench.suite.instructions import Counted
from bench.suite.machine import MachineState

INSTRUCTIONS_PER_GENERATION = {"per_agent": 900_000.0, "shared": 700_000.0, "bare": 650_000.0}
"""The fake counts' figures per mode; any other mode: 600,000."""


def make_document(mode: str, agents: int, lag_p99: float = 10.0, **work) -> dict:
    """A minimal result document (schema 1 shape) with a few metrics."""
    return {
        "schema": 1,
        "meta": {
            "commit": "abc123",
            "dirty": False,
            "loop": "asyncio",
            "clock": "real",
            "started_at": "2026-11-29T12:00:00+00:00",
            "cpu_model": "Test CPU",
            "cores": 2,
            "python": "3.11.7",
        },
        "config": {"mode": mode, "agents": agents, "duration": 2.0},
        "metrics": {
            "loop_lag": {"p99_ms": lag_p99},
            "memory": {"rss_per_agent_bytes": 4096.0},
            "work": {"flashes": 10, "agent_errors": 0, **work},
        },
        "series": {},
        "interrupted": False,
        "errors": {"agents": [], "probes": {}},
    }


@pytest.fixture
def document():
    return make_document


@pytest.fixture
def quiet_machine(monkeypatch):
    """No second of CPU sampling, no `pyperf system show`, no noise warnings."""
    monkeypatch.setattr(
        suite_module, "read_machine_state", lambda: MachineState(1.0, 0.1, 2, None, "none")
    )


@pytest.fixture
def fake_worker(monkeypatch, document):
    """Replace the suite's worker processes; the list records the labels run, in order."""
    calls = []

    def run(config, out, timeout=None):
        calls.append(config.label)
        found = document(config.mode, config.agents, lag_p99=float(len(calls)))
        found["config"]["gc"] = config.gc  # as `bench run --gc` records it
        return found

    monkeypatch.setattr(suite_module, "run_worker", run)
    return calls


def fake_cost(child) -> Cost:
    """What measuring `child` under valgrind might give, instantly."""
    per_generation = INSTRUCTIONS_PER_GENERATION.get(child.mode, 600_000.0)
    figures = Figures(per_generation, per_generation * 1.1, 110_000.0)
    return Cost(child, figures, [], [], ["valgrind", "--tool=callgrind", "python"])


@pytest.fixture
def cost_of():
    return fake_cost


@pytest.fixture(autouse=True)
def fake_counts(monkeypatch):
    """No valgrind in the suite's tests: each count returns at once; the list records each
    call's (mode, agents) counted."""
    calls = []

    def measure_each(children, valgrind):
        calls.append([(child.mode, child.agents) for child in children])
        return [
            Counted(child, "2026-11-29T13:00:00+00:00", cost=fake_cost(child)) for child in children
        ]

    monkeypatch.setattr(suite_module, "find_valgrind", lambda: "/usr/bin/valgrind")
    monkeypatch.setattr(suite_module, "valgrind_version", lambda path: "valgrind-3.19.0")
    monkeypatch.setattr(suite_module, "measure_each", measure_each)
    return calls
