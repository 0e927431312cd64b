"""The stall probe: real stalls on the real clock are found and named; attribution is pure."""

import asyncio
import gc
import time

import pytest

from bench.probes import stalls as stalls_module
from bench.probes.base import ProbeSet
from bench.probes.stalls import (
    Collection,
    Stall,
    StallProbe,
    attribute,
    by_function,
    in_project,
    summarise,
    trim,
)

TESTS = ("tests/",)


def a_known_blocking_function():
    time.sleep(0.2)


async def run_probe(probe, *actions, settle=0.05):
    """Start the probe, let the loop beat, run each action from a loop callback, stop."""
    probe.start()
    await asyncio.sleep(settle)
    for action in actions:
        done = asyncio.get_running_loop().create_future()

        def call(action=action, done=done):
            action()
            done.set_result(None)

        asyncio.get_running_loop().call_soon(call)
        await done
        await asyncio.sleep(settle)
    await probe.stop()
    return probe.result()


@pytest.mark.looptime(False)
async def test_a_sleep_in_a_known_function_is_one_stall_named_by_its_samples():
    probe = StallProbe(threshold=0.02, project=TESTS)
    result = await run_probe(probe, a_known_blocking_function)

    (stall,) = result.series["stalls"]
    assert stall["cause"] == "code"
    assert 190 <= stall["duration_ms"] <= 400
    assert stall["function"].startswith("a_known_blocking_function tests/bench/probes/")
    assert stall["share"] >= 0.9 and stall["samples"] >= 10
    assert stall["frames"][0].startswith("a_known_blocking_function ")
    metrics = result.metrics
    assert metrics["count"] == 1 and metrics["share_by_cause"]["code"] == 1.0
    assert metrics["max_ms"] == stall["duration_ms"]


@pytest.mark.looptime(False)
async def test_a_full_collection_over_a_large_graph_is_attributed_to_gc_gen2():
    graph = [[index, {}] for index in range(400_000)]  # tracked containers for gc to walk
    for node in graph:
        node[1]["self"] = node  # cycles
    probe = StallProbe(threshold=0.02, project=TESTS)
    try:
        result = await run_probe(probe, lambda: gc.collect(2))
    finally:
        del graph
    gen2 = [s for s in result.series["stalls"] if s["cause"] == "gc-gen2"]
    assert gen2, result.series["stalls"]
    stall = max(gen2, key=lambda s: s["duration_ms"])
    assert stall["gc_generation"] == 2
    assert stall["gc_ms"] >= stall["duration_ms"] / 2
    assert result.metrics["gc_collections"]["2"] >= 1
    assert result.metrics["gc_max_ms"]["2"] >= stall["gc_ms"] * 0.9


@pytest.mark.looptime(False)
async def test_a_failing_watchdog_never_stops_the_run_and_says_why(monkeypatch):
    class Broken:
        @staticmethod
        def _current_frames():
            raise OSError("no frames today")

    monkeypatch.setattr(stalls_module, "sys", Broken)
    probes = ProbeSet([StallProbe(threshold=0.01)])
    probes.start()
    await asyncio.sleep(0.02)
    time.sleep(0.05)  # a stall: the watchdog tries to sample it and fails
    await asyncio.sleep(0.02)
    await probes.stop()
    assert probes.errors["stalls"] == (
        "stop: RuntimeError: the watchdog thread failed: OSError: no frames today"
    )


@pytest.mark.looptime(False)
async def test_stalls_until_the_loop_first_keeps_up_are_start_up_and_utilisation_is_per_second():
    probe = StallProbe(threshold=0.02)
    probe.start()
    time.sleep(0.05)  # the swarm's first pass, before the loop gets back to the probe
    await asyncio.sleep(0.001)  # the late beat runs first, then this
    time.sleep(0.05)  # the next pass, still late: still the start
    await asyncio.sleep(0.05)  # beats on time: the loop keeps up
    time.sleep(0.05)  # later: code
    await asyncio.sleep(0.01)
    deadline = time.monotonic() + 1.1
    while time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await probe.stop()
    result = probe.result()
    assert [s["cause"] for s in result.series["stalls"]][:3] == ["start-up", "start-up", "code"]
    busy = result.series["loop_utilisation"]["busy"]
    assert len(busy) >= 1 and all(0 <= b <= 1 for b in busy)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threshold must be > 0"):
        StallProbe(threshold=0)


def collection(start, duration, generation):
    return Collection(start, duration, generation, collected=0)


def test_a_stall_mostly_inside_collections_is_theirs_by_the_longest_generation():
    stall = Stall(10.0, 10.1, samples=[("f a.py:1",)])
    found = attribute(stall, [collection(10.0, 0.02, 0), collection(10.03, 0.05, 1)])
    assert (found["cause"], found["gc_generation"], found["gc_ms"]) == ("gc-gen1", 1, 70.0)
    assert found["function"] == "f a.py:1"  # the samples are kept all the same


def test_a_stall_before_the_loop_first_kept_up_is_start_up_unless_gc_owns_it():
    stall = Stall(1.0, 1.1, samples=[("f a.py:1",)], start_up=True)
    assert attribute(stall, [])["cause"] == "start-up"
    assert attribute(stall, [collection(1.0, 0.08, 2)])["cause"] == "gc-gen2"
    assert attribute(Stall(3.0, 3.1), [])["cause"] == "unknown"


def test_code_is_blamed_on_the_innermost_project_frame_most_samples_name():
    inner = ("sleep time.py:1", "work cascade/engine.py:10", "main bench/run.py:5")
    other = ("dict.get x.py:2", "step cascade/chain.py:7", "main bench/run.py:5")
    stall = Stall(5.0, 5.05, samples=[inner] * 9 + [other])
    found = attribute(stall, [], project=("cascade/",))
    assert found["cause"] == "code"
    assert found["function"] == "work cascade/engine.py:10"
    assert found["share"] == 0.9
    assert found["frames"] == list(inner)


def test_trim_keeps_the_innermost_frames_and_the_projects():
    stack = [f"f{i} lib/x.py:{i}" for i in range(20)] + ["run cascade/e.py:1"]
    assert trim(stack, ("cascade/",)) == (*stack[:3], "run cascade/e.py:1")
    assert in_project("run cascade/e.py:1", ("cascade/",))
    assert not in_project("cascade_like lib/cascade.py:1", ("cascade/",))


def test_the_summary_shares_stalled_time_by_cause_and_function():
    stalls = [
        {"cause": "gc-gen1", "duration_ms": 30.0, "function": None},
        {"cause": "code", "duration_ms": 50.0, "function": "f a.py:1"},
        {"cause": "code", "duration_ms": 20.0, "function": "f a.py:1"},
    ]
    metrics = summarise(stalls, 20.0)
    assert (metrics["count"], metrics["total_ms"], metrics["max_ms"]) == (3, 100.0, 50.0)
    assert metrics["p99_ms"] == 50.0
    assert metrics["share_by_cause"]["code"] == 0.7
    assert metrics["by_cause_ms"]["gc-gen1"] == 30.0
    assert summarise([], 20.0)["share_by_cause"]["code"] is None
    assert by_function(stalls) == {"code: f a.py:1": 70.0, "gc-gen1: -": 30.0}
