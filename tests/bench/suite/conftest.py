import pytest

import bench.commands.suite as suite_module
from bench.suite.machine import MachineState


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
        return document(config.mode, config.agents, lag_p99=float(len(calls)))

    monkeypatch.setattr(suite_module, "run_worker", run)
    return calls
