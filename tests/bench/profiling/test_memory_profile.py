"""memray around the set-up: the set-up-only child, its commands, the figures and the table."""

import inspect
import sys
from collections import Counter

import pytest

import bench.profiling.memory
from bench.errors import BenchError
from bench.profiling.memory import (
    check_memray,
    flamegraph_command,
    memory_summary,
    read_capture,
    run_memray,
    trace_command,
)
from bench.profiling.setup_only import set_up_agents, set_up_and_close
from bench.workload import MODES, Swarm, make_config


@pytest.mark.parametrize("mode", list(MODES))
async def test_set_up_only_sets_up_every_agent_and_closes_them(mode):
    assert await set_up_and_close(mode, make_config(agents=9)) == 9


def test_set_up_agents_returns_unstarted_lives():
    lives = set_up_agents(Swarm(make_config(agents=9)), "per_agent")

    assert len(lives) == 9
    assert {inspect.getcoroutinestate(life) for life in lives} == {"CORO_CREATED"}
    for life in lives:
        life.close()


def test_memray_commands(tmp_path):
    capture, html = tmp_path / "x.memray.bin", tmp_path / "x.memray.html"

    assert trace_command(capture, ["--mode", "shared"]) == [
        sys.executable, "-m", "memray", "run", "--quiet", "--force",
        "--trace-python-allocators", "--output", str(capture),
        "-m", "bench.profiling.setup_only", "--mode", "shared",
    ]  # fmt: skip
    assert flamegraph_command(capture, html) == [
        sys.executable, "-m", "memray", "flamegraph", "--force", "--no-web",
        "--output", str(html), str(capture),
    ]  # fmt: skip


def test_missing_memray_is_refused_with_install_advice(monkeypatch):
    monkeypatch.setattr(bench.profiling.memory.importlib.util, "find_spec", lambda name: None)

    with pytest.raises(BenchError) as error:
        check_memray()

    assert str(error.value) == (
        f"memray is not installed for {sys.executable}: install the project's dependencies "
        "(make setup) or `pip install 'memray>=1.11,<2'`"
    )


def test_a_failing_memray_command_shows_the_end_of_its_output(tmp_path):
    command = [sys.executable, "-c", "import sys; print('no such mode', file=sys.stderr); exit(3)"]

    with pytest.raises(BenchError) as error:
        run_memray(command, tmp_path, "memray run of the set-up")

    assert str(error.value) == "memray run of the set-up failed (exit status 3):\nno such mode"


SETUP = "set_up_agents (bench/profiling/setup_only.py:30)"
MODULE = "<module> (bench/profiling/setup_only.py:80)"


def test_memory_summary_tables_only_the_set_up_bytes():
    agent, engine = "agent (bench/workload/modes.py:60)", "__init__ (cascade/runtime/engine.py:9)"
    stacks = Counter(
        {
            (MODULE, "_find_and_load (<frozen importlib._bootstrap>:1)"): 6000,
            (MODULE, SETUP, agent): 1000,
            (MODULE, SETUP, agent, engine): 3000,
        }
    )
    figures = {"peak_memory_bytes": 12000, "total_allocations": 50}

    summary = memory_summary(figures, stacks, agents=4, n=2)

    assert summary["peak_memory_bytes"] == 12000
    assert summary["bytes_at_peak"] == 10000
    assert summary["setup_bytes_at_peak"] == summary["bytes"] == 4000
    assert summary["setup_bytes_per_agent"] == 1000.0
    assert [(row["group"], row["leaf_pct"]) for row in summary["groups"]][:2] == [
        ("engine", 75.0),
        ("workload", 25.0),
    ]
    assert summary["top_self"][0]["function"] == "__init__ (cascade/runtime/engine.py)"
    assert summary["top_self"][0]["self_bytes"] == 3000
    assert [(row["function"], row["total_pct"]) for row in summary["top_total"]] == [
        ("agent (bench/workload/modes.py)", 100.0),  # ties on total: more self first
        ("set_up_agents (bench/profiling/setup_only.py)", 100.0),
    ]


def test_read_capture_charges_the_set_up_bytes_to_set_up_agents(tmp_path):
    memray = pytest.importorskip("memray")
    capture = tmp_path / "setup.bin"
    swarm = Swarm(make_config(agents=16))
    with memray.Tracker(capture, trace_python_allocators=True):
        lives = set_up_agents(swarm, "per_agent")
    for life in lives:
        life.close()

    figures, stacks = read_capture(capture, lambda path: path)
    summary = memory_summary(figures, stacks, agents=16)

    assert figures["trace_python_allocators"] is True
    assert figures["peak_memory_bytes"] > 0 and figures["total_allocations"] > 0
    assert 0 < summary["setup_bytes_at_peak"] <= summary["bytes_at_peak"]
    assert any(
        row["function"].startswith("set_up_agents (") and row["total_pct"] == 100.0
        for row in summary["top_total"]
    )
    assert {row["group"] for row in summary["top_self"]} >= {"engine", "workload"}
