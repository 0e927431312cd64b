"""Every mode under the virtual clock: deterministic counts, and the physics synchronises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.runner import RunSpec, execute
from bench.workload import (
    MODES,
    Mode,
    floor_mode,
    gate_modes,
    get_mode,
    make_config,
    physics,
    ratio_columns,
    register,
)

REPO = Path(__file__).resolve().parents[3]
COUNTS = ("generations", "steps", "flashes", "messages", "inbox_misses", "signals")


def _run(mode: str, nudge: float = 0.2, seed: int = 1, duration: float = 100.0) -> dict:
    config = make_config(agents=36, nudge=nudge, seed=seed, duration=duration)
    return execute(RunSpec(mode, config, clock="virtual"))


def _counts(document: dict) -> dict:
    work = document["metrics"]["work"]
    return {key: work[key] for key in COUNTS}


@pytest.fixture(scope="module")
def coupled() -> dict[str, dict]:
    return {mode: _run(mode) for mode in MODES}


@pytest.mark.parametrize("mode", list(MODES))
def test_the_same_seed_gives_the_same_counts(mode, coupled):
    again = _run(mode)
    assert _counts(again) == _counts(coupled[mode])
    assert coupled[mode]["metrics"]["work"]["flashes"] > 500


@pytest.mark.parametrize("mode", list(MODES))
def test_coupled_fireflies_synchronise(mode, coupled):
    assert coupled[mode]["metrics"]["convergence"]["order_parameter_final"] > 0.9


@pytest.mark.parametrize("mode", list(MODES))
def test_uncoupled_fireflies_stay_incoherent(mode):
    document = _run(mode, nudge=0.0)
    assert document["metrics"]["convergence"]["order_parameter_final"] < 0.5
    assert document["metrics"]["work"]["flashes"] > 500


def test_a_different_seed_gives_different_counts(coupled):
    assert _counts(_run("raw", seed=2)) != _counts(coupled["raw"])


def test_virtual_runs_report_no_time_based_lag(coupled):
    metrics = coupled["shared"]["metrics"]
    assert "loop_lag" not in metrics and "frame" not in metrics
    assert coupled["shared"]["meta"]["clock"] == "virtual"


def test_engine_generations_are_counted_per_mode(coupled):
    per_agent, shared, bare, raw = (
        coupled[m]["metrics"] for m in ("per_agent", "shared", "bare", "raw")
    )
    assert per_agent["engine"]["engines"] == 36 and shared["engine"]["engines"] == 1
    assert bare["engine"] == raw["engine"] == {"engines": 0}
    # Each workflow starts with one extra generation (the first decision).
    assert shared["work"]["generations"] == shared["work"]["steps"] + 36
    assert bare["work"]["generations"] == bare["work"]["steps"] + 36
    assert raw["work"]["generations"] == raw["work"]["steps"]


@pytest.mark.parametrize("mode", ["per_agent", "shared", "bare"])
def test_running_the_workflow_changes_nothing_in_the_physics(mode, coupled):
    """Under the virtual clock a workflow mode lives the agents' lives exactly as plain
    asyncio does: an engine that yielded where raw does not would move these counts."""
    same = ("steps", "flashes", "messages", "inbox_misses", "signals")
    work, raw = coupled[mode]["metrics"]["work"], coupled["raw"]["metrics"]["work"]
    assert {key: work[key] for key in same} == {key: raw[key] for key in same}


def test_counts_do_not_depend_on_the_hash_seed(tmp_path):
    results = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"h{hash_seed}.json"
        command = [sys.executable, "-m", "bench", "run", "--mode", "shared", "--agents", "36"]
        command += ["--duration", "30", "--clock", "virtual", "--quiet", "--out", str(out)]
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, timeout=60)
        results.append(json.loads(out.read_text()))
    assert _counts(results[0]) == _counts(results[1])
    assert [r["meta"]["hash_seed"] for r in results] == ["1", "2"]


@pytest.mark.parametrize("mode", ["shared", "raw"])
def test_one_failing_agent_does_not_stop_the_others(mode, monkeypatch):
    real_plan = physics.plan

    def plan(agent, config, now):
        if agent.id == 3 and now > 10.0:
            raise RuntimeError("agent 3 broke")
        return real_plan(agent, config, now)

    monkeypatch.setattr(physics, "plan", plan)
    document = _run(mode, duration=30.0)
    assert document["metrics"]["work"]["agent_errors"] == 1
    assert document["errors"]["agents"] == ["RuntimeError: agent 3 broke"]
    assert document["metrics"]["work"]["flashes"] > 150  # the other 35 went on flashing


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(BenchError) as raised:
        get_mode("turbo")
    assert str(raised.value) == "unknown mode 'turbo'; choose one of: per_agent, shared, bare, raw"


@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_declares_its_measured_bytes_per_agent(mode):
    # Measured peaks were 8.9-13.9 KB per agent; the declared figures add about 25%.
    assert 8 * 1024 < MODES[mode].bytes_per_agent < 32 * 1024


def test_an_engine_per_agent_costs_the_most_memory_and_raw_the_least():
    per_agent, shared, bare, raw = (
        MODES[m].bytes_per_agent for m in ("per_agent", "shared", "bare", "raw")
    )
    assert per_agent > shared >= bare >= raw


def test_each_mode_declares_how_it_is_shown_compared_and_gated():
    assert {name: (mode.label, mode.colour) for name, mode in MODES.items()} == {
        "per_agent": ("per-agent engines", "#d62728"),
        "shared": ("the shared engine", "#1f77b4"),
        "bare": ("the workflow run bare", "#ff7f0e"),
        "raw": ("raw asyncio", "#2ca02c"),
    }
    assert ratio_columns() == [("per_agent", "shared"), ("shared", "bare"), ("shared", "raw")]
    assert gate_modes() == ("per_agent", "shared", "raw")  # bare runs no engine code of its own
    assert floor_mode() == "raw"


def test_every_ratio_is_to_a_registered_mode_and_says_what_it_tells():
    for mode in MODES.values():
        for other, why in mode.ratios_to.items():
            assert other in MODES and other != mode.name and why, (mode.name, other)


class _Half(Mode):
    name = "half"
    description = "declares no label and no colour"
    bytes_per_agent = 1024

    def agent(self, agent):
        raise NotImplementedError

    def engines(self):
        return []


class _Shared(_Half):
    name, label, colour = "shared", "again", "#000000"


class _Floor(_Half):
    name, label, colour, floor = "floor", "another floor", "#000000", True


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        (_Half, TypeError, "mode _Half does not declare label, colour"),
        (_Shared, ValueError, "a mode called 'shared' is registered already"),
        (_Floor, ValueError, "mode 'floor' cannot be the floor: 'raw' is"),
    ],
)
def test_register_refuses_an_incomplete_repeated_or_second_floor_mode(mode, error, message):
    with pytest.raises(error) as refused:
        register(mode)
    assert str(refused.value) == message
    assert list(MODES) == ["per_agent", "shared", "bare", "raw"]
