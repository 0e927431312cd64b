"""The gate's run plan (interleaved, alternating, rotating) and how results are collected."""

from pathlib import Path

import pytest

import bench.gate.measure as measure_module
from bench.gate.measure import BASE, HEAD, SideFailed, measure, plan
from bench.gate.settings import GateSettings
from bench.suite.worker import WorkerFailed

MODES = ("per_agent", "shared", "raw")
SETTINGS = GateSettings(
    agents=16, duration=0.5, pairs=5, modes=MODES, virtual_agents=49, virtual_duration=10.0
)


def timing_runs(runs):
    return [run for run in runs if run.family == "timing"]


def test_the_plan_has_every_run():
    runs = plan(SETTINGS)
    assert len(runs) == 3 * 2 + 5 * 3 * 2
    assert len({run.file_name for run in runs}) == len(runs)
    deterministic = [run for run in runs if run.family == "deterministic"]
    assert runs[: len(deterministic)] == deterministic  # the virtual-clock runs come first
    assert sorted((run.config.mode, run.side) for run in deterministic) == sorted(
        (mode, side) for mode in MODES for side in (BASE, HEAD)
    )
    for run in timing_runs(runs):
        assert (run.config.agents, run.config.duration) == (16, 0.5)
        assert run.config.clock == "real" and not run.config.trace_python


def test_deterministic_runs_use_the_virtual_clock_and_trace_python():
    runs = [run for run in plan(SETTINGS) if run.family == "deterministic"]
    assert {run.config.clock for run in runs} == {"virtual"}
    assert all(run.config.trace_python for run in runs)
    assert {(run.config.agents, run.config.duration, run.index) for run in runs} == {(49, 10.0, 0)}


def test_both_sides_run_each_configuration_back_to_back():
    runs = timing_runs(plan(SETTINGS))
    for first, second in zip(runs[::2], runs[1::2], strict=True):
        assert first.config == second.config
        assert first.index == second.index
        assert {first.side, second.side} == {BASE, HEAD}


def test_the_side_going_first_alternates_from_pair_to_pair():
    runs = timing_runs(plan(SETTINGS))
    first_by_pair = {run.index: run.side for run in runs[::2]}
    assert first_by_pair == {0: BASE, 1: HEAD, 2: BASE, 3: HEAD, 4: BASE}
    for run in runs[::2]:  # within a pair, every mode starts with the same side
        assert run.side == first_by_pair[run.index]


def test_the_mode_order_rotates_from_pair_to_pair():
    runs = timing_runs(plan(SETTINGS))
    orders = [[run.config.mode for run in runs[::2] if run.index == i] for i in range(5)]
    assert orders[0] == ["per_agent", "shared", "raw"]
    assert orders[1] == ["shared", "raw", "per_agent"]
    assert orders[2] == ["raw", "per_agent", "shared"]
    assert orders[3] == orders[0]
    assert all(sorted(order) == sorted(MODES) for order in orders)


def test_a_head_only_plan_has_only_head_timing_runs():
    runs = plan(SETTINGS, (HEAD,), deterministic=False)
    assert len(runs) == 5 * 3
    assert {(run.side, run.family) for run in runs} == {(HEAD, "timing")}


def test_an_injected_slowdown_goes_to_the_head_side_runs_only():
    runs = plan(SETTINGS, head_slowdown=0.15)
    assert {(run.side, run.config.inject_slowdown) for run in runs} == {(BASE, None), (HEAD, 0.15)}
    head = next(run for run in runs if run.side == HEAD and run.family == "timing")
    assert head.config.argv(Path("out.json"))[-2:] == ["--inject-slowdown", "0.15"]
    assert all(run.config.inject_slowdown is None for run in plan(SETTINGS))
    baseline = plan(SETTINGS, (HEAD,), deterministic=False, head_slowdown=0.2)
    assert {run.config.inject_slowdown for run in baseline} == {0.2}


def test_file_names_and_weights():
    runs = plan(GateSettings(modes=("shared",), duration=8.0, pairs=5))
    first, last = runs[0], runs[-1]
    assert first.file_name == "base-shared-deterministic-0.json"
    assert last.file_name == "head-shared-timing-4.json"  # pair 4: base, then head
    assert last.weight > 8.0 > first.weight > 0  # a timing run weighs its duration and more


# --- measure() with fake workers --------------------------------------------------------------


def document(cpu, lag=None, *, generations=100, interrupted=False):
    return {
        "interrupted": interrupted,
        "metrics": {
            "work": {
                "cpu_us_per_generation": cpu,
                "generations": generations,
                "messages": 10,
                "inbox_misses": 0,
                "agent_errors": 0,
            },
            "loop_lag": {"p99_ms": lag},
            "objects": {"objects_per_agent": 12.0},
            "memory": {"rss_per_agent_bytes": 4096.0, "python_per_agent_bytes": 900.0},
        },
    }


@pytest.fixture
def worker(monkeypatch):
    """Replace run_worker: `answer(side, planned_config, out)` returns the document."""
    calls = []

    def install(answer):
        def run_worker(config, out, timeout=None, cwd=None):
            side = cwd.name
            calls.append((side, config, Path(out).name))
            return answer(side, config, len(calls))

        monkeypatch.setattr(measure_module, "run_worker", run_worker)
        return calls

    return install


@pytest.fixture
def folders(tmp_path):
    result = {}
    for side in (BASE, HEAD):
        result[side] = tmp_path / side
        result[side].mkdir()
    return result


def two_modes():
    return GateSettings(modes=("shared", "raw"), agents=16, duration=0.5, pairs=5)


def test_values_land_in_their_slots(worker, folders, tmp_path):
    settings = two_modes()

    def answer(side, config, call):
        if config.clock == "virtual":
            return document(1.0, generations=500 if side == HEAD else 400)
        return document(cpu=call * 1.0, lag=0.5)

    calls = worker(answer)
    runs = plan(settings)
    done = []
    found = measure(runs, folders, tmp_path / "runs", settings, on_done=done.append)
    assert done == runs and found.runs == len(runs) == len(calls)
    assert not found.interrupted
    assert [(side, name) for side, _, name in calls] == [(r.side, r.file_name) for r in runs]
    assert (tmp_path / "runs").is_dir()
    assert found.deterministic[BASE]["raw"]["work.generations"] == 400
    assert found.deterministic[HEAD]["shared"]["work.generations"] == 500
    assert found.deterministic[HEAD]["raw"]["memory.python_per_agent_bytes"] == 900.0
    assert found.deterministic[BASE]["raw"]["objects.objects_per_agent"] == 12.0
    for position, run in enumerate(runs, start=1):
        if run.family == "timing":
            series = found.timing[run.side][run.config.mode]
            assert series["work.cpu_us_per_generation"][run.index] == position
            assert series["loop_lag.p99_ms"][run.index] == 0.5
            assert series["frame.flush_p99_ms"][run.index] is None  # absent from the document
    assert all(
        len(values) == 5
        for side in (BASE, HEAD)
        for v in found.timing[side].values()
        for values in v.values()
    )


def test_a_failing_base_worker_is_a_base_failure(worker, folders, tmp_path):
    def answer(side, config, call):
        if side == BASE and config.clock == "real":
            raise WorkerFailed("shared-16: worker exited with 1:\nImportError: no Engine")
        return document(1.0)

    worker(answer)
    settings = two_modes()
    with pytest.raises(SideFailed, match="ImportError: no Engine") as error:
        measure(plan(settings), folders, tmp_path, settings)
    assert error.value.side == BASE


def test_a_failing_head_worker_is_a_head_failure(worker, folders, tmp_path):
    def answer(side, config, call):
        if side == HEAD:
            raise WorkerFailed("raw-16: no result after 302 s")
        return document(1.0)

    worker(answer)
    settings = two_modes()
    with pytest.raises(SideFailed) as error:
        measure(plan(settings), folders, tmp_path, settings)
    assert error.value.side == HEAD


@pytest.mark.parametrize("how", ["ctrl-c", "worker interrupted"])
def test_an_interruption_keeps_what_was_measured(worker, folders, tmp_path, how):
    settings = two_modes()
    runs = plan(settings)
    stop_at = 4 + 3  # the 4 deterministic runs, then 3 timing runs

    def answer(side, config, call):
        if call == stop_at + 1:
            if how == "ctrl-c":
                raise KeyboardInterrupt
            return document(99.0, interrupted=True)
        return document(cpu=float(call))

    calls = worker(answer)
    found = measure(runs, folders, tmp_path, settings)
    assert found.interrupted
    assert found.runs == stop_at and len(calls) == stop_at + 1
    assert set(found.deterministic[BASE]) == {"shared", "raw"}
    measured = [
        value
        for side in (BASE, HEAD)
        for mode in settings.modes
        for value in found.timing[side][mode]["work.cpu_us_per_generation"]
        if value is not None
    ]
    assert sorted(measured) == [5.0, 6.0, 7.0]  # not the interrupted run's 99
