import pytest


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
