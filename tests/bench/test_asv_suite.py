"""The asv suite (bench/asv_suite): its grid, its tracks over a hand-built cache, its config."""

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asv_runner.benchmarks.mark import SkipNotImplemented

from bench.cost.measure import Cost
from bench.cost.segments import Figures
from bench.cost.valgrind import ChildRun
from bench.metrics import BY_PATH
from bench.suite import instructions
from bench.suite.instructions import Counted
from bench.suite.worker import WorkerFailed
from bench.workload import MODES

ROOT = Path(__file__).resolve().parents[2]
SUITE_DIR = ROOT / "bench" / "asv_suite"
TINY = {"BENCH_ASV_AGENTS": "16", "BENCH_ASV_DURATION": "1"}

TRACKS = {
    "track_loop_lag_p50": "loop_lag.p50_ms",
    "track_loop_lag_p99": "loop_lag.p99_ms",
    "track_loop_lag_max": "loop_lag.max_ms",
    "track_frame_flush_p99": "frame.flush_p99_ms",
    "track_render_jitter_p99": "frame.jitter_p99_ms",
    "track_rss_per_agent": "memory.rss_per_agent_bytes",
    "track_objects_per_agent": "objects.objects_per_agent",
    "track_cpu_per_generation": "work.cpu_us_per_generation",
    "track_inbox_misses_per_flash": "work.inbox_misses_per_flash",
    "track_inbox_misses": "work.inbox_misses",
    "track_instructions_per_generation": "instructions.per_generation",
}
TIMED = {name: path for name, path in TRACKS.items() if not path.startswith("instructions.")}


def load_suite(monkeypatch, **env):
    """A fresh copy of the suite module, imported with exactly these BENCH_ASV_* variables."""
    for name in ("BENCH_ASV_AGENTS", "BENCH_ASV_DURATION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("asv_suite_firefly", SUITE_DIR / "firefly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def document(index=0):
    """A small synthetic result document: every tracked path holds a distinct number."""
    metrics = {}
    for offset, path in enumerate(TRACKS.values()):
        group, key = path.split(".", 1)
        metrics.setdefault(group, {})[key] = 10 * index + offset + 0.5
    return {"schema": 1, "metrics": metrics}


@pytest.fixture
def suite(monkeypatch):
    return load_suite(monkeypatch, **TINY)


def test_the_module_imports_without_importing_the_workload():
    code = "import sys, bench.asv_suite.firefly; print('bench.workload' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_default_grid_is_every_mode_by_the_asv_sizes(monkeypatch):
    module = load_suite(monkeypatch)
    for cls in (module.Firefly, module.AgentSetup):
        assert cls.params == [["per_agent", "shared", "bare", "raw"], [100, 400, 900]]
        assert cls.param_names == ["mode", "agents"]
    assert module.DURATION == 10.0
    assert list(module.MODES) == list(MODES)


def test_the_modes_are_the_registered_classes_of_the_modes_file(suite, tmp_path):
    source = tmp_path / "modes.py"
    source.write_text(
        '@register\nclass A(Mode):\n    """A."""\n\n    label = "not this"\n    name = "a"\n\n'
        'class B(Mode):\n    name = "b"\n\n@register\nclass C(Mode):\n    name = "c"\n',
        encoding="utf-8",
    )
    assert suite.registered_modes(source) == ("a", "c")


def test_the_environment_shrinks_the_grid_and_the_cache_timeout(monkeypatch):
    module = load_suite(monkeypatch, BENCH_ASV_AGENTS="16, 36", BENCH_ASV_DURATION="1")
    assert module.Firefly.params == [["per_agent", "shared", "bare", "raw"], [16, 36]]
    assert module.DURATION == 1.0
    assert module.Firefly.setup_cache.timeout == 4 * 2 * (3 * 1.0 + 120 + 120)


def test_a_malformed_agent_list_is_refused(monkeypatch):
    with pytest.raises(ValueError) as refused:
        load_suite(monkeypatch, BENCH_ASV_AGENTS="16;36")
    assert str(refused.value) == "BENCH_ASV_AGENTS must look like '16,36', got '16;36'"


def test_every_track_has_the_unit_of_its_metric(suite):
    tracks = {name for name in dir(suite.Firefly) if name.startswith("track_")}
    assert tracks == set(TRACKS)
    assert set(suite.TRACKED) == set(TRACKS.values())
    for name, path in TRACKS.items():
        assert getattr(suite.Firefly, name).unit == BY_PATH[path].unit


def test_tracks_read_their_own_metric_of_their_own_combination(suite):
    cache = {("shared", 16): suite.tracked_metrics(document(1))}
    cache[("raw", 16)] = suite.tracked_metrics(document(2))
    bench = suite.Firefly()
    for offset, (name, path) in enumerate(TRACKS.items()):
        assert getattr(bench, name)(cache, "shared", 16) == 10 + offset + 0.5, path
        assert getattr(bench, name)(cache, "raw", 16) == 20 + offset + 0.5, path


def test_a_crashed_combination_fails_only_its_own_tracks(suite):
    cache = {("shared", 16): {"error": "WorkerFailed: boom"}}
    cache[("raw", 16)] = suite.tracked_metrics(document())
    bench = suite.Firefly()
    with pytest.raises(RuntimeError) as failed:
        bench.track_loop_lag_p99(cache, "shared", 16)
    assert str(failed.value) == "the shared run at 16 agents failed: WorkerFailed: boom"
    assert bench.track_loop_lag_p99(cache, "raw", 16) == 1.5


def test_an_unmeasured_metric_fails_its_track(suite):
    cache = {("raw", 16): suite.tracked_metrics({"schema": 1, "metrics": {}})}
    with pytest.raises(ValueError) as failed:
        suite.Firefly().track_loop_lag_p50(cache, "raw", 16)
    assert str(failed.value) == "loop_lag.p50_ms was not measured in the raw run at 16 agents"


def test_setup_cache_runs_each_combination_once_and_keeps_failures(suite, monkeypatch):
    calls = []

    def fake_run_worker(config, out, timeout=None):
        calls.append((config.mode, config.agents, config.duration, timeout))
        if config.mode == "per_agent":
            raise WorkerFailed("per_agent-16: worker exited with 1:\nboom")
        return document()

    def fake_count(combinations):
        assert len(calls) == 4  # after every timed run, never beside one
        return {key: {"instructions.per_generation": 7.0} for key in combinations}

    monkeypatch.setattr("bench.suite.worker.run_worker", fake_run_worker)
    monkeypatch.setattr(suite, "count_instructions", fake_count)
    cache = suite.Firefly().setup_cache()
    assert calls == [(mode, 16, 1.0, 123.0) for mode in ("per_agent", "shared", "bare", "raw")]
    assert cache[("per_agent", 16)] == {
        "error": "WorkerFailed: per_agent-16: worker exited with 1:\nboom",
        "instructions.per_generation": 7.0,
    }
    timed = suite.tracked_metrics(document(), tuple(TIMED.values()))
    assert cache[("raw", 16)] == {**timed, "instructions.per_generation": 7.0}
    bench = suite.Firefly()
    assert bench.track_instructions_per_generation(cache, "per_agent", 16) == 7.0  # not timed
    with pytest.raises(RuntimeError):
        bench.track_loop_lag_p99(cache, "per_agent", 16)


def test_one_real_tiny_run_fills_every_timed_track(suite):
    entry = suite.measure("raw", 16, 1.0)
    assert "error" not in entry
    assert set(entry) == set(TIMED.values())
    assert [path for path, value in entry.items() if value is None] == []


def fake_cost(mode, agents, per_generation):
    child = ChildRun(mode, agents, duration=2.0, warmup=1.0)
    figures = Figures(per_generation, per_generation + 1, 50.0)
    return Cost(child, figures, [], [], ["valgrind", "python"])


def test_counts_are_made_up_to_400_agents_and_the_rest_skipped(suite, monkeypatch):
    counted = []

    def fake_measure_each(children, valgrind):
        counted.extend(
            (child.mode, child.agents, child.warmup, child.duration) for child in children
        )
        return [
            Counted(
                child, "2026-12-06T00:00:00+00:00", cost=fake_cost(child.mode, child.agents, 10.0)
            )
            if child.mode == "raw"
            else Counted(child, "2026-12-06T00:00:00+00:00", error="the measured run failed")
            for child in children
        ]

    monkeypatch.setattr(instructions, "measure_each", fake_measure_each)
    monkeypatch.setattr("bench.cost.valgrind.find_valgrind", lambda: "/usr/bin/valgrind")
    monkeypatch.setattr("bench.cost.valgrind.valgrind_version", lambda path: "valgrind-3.19.0")
    combinations = [("shared", 400), ("raw", 400), ("raw", 900)]
    cache = suite.count_instructions(combinations)

    assert counted == [("shared", 400, 1.0, 2.0), ("raw", 400, 1.0, 2.0)]
    bench = suite.Firefly()
    assert bench.track_instructions_per_generation(cache, "raw", 400) == 10.0
    with pytest.raises(RuntimeError) as failed:
        bench.track_instructions_per_generation(cache, "shared", 400)
    assert str(failed.value) == "the shared count at 400 agents failed: the measured run failed"
    with pytest.raises(SkipNotImplemented) as skipped:
        bench.track_instructions_per_generation(cache, "raw", 900)
    assert str(skipped.value) == (
        "instructions.per_generation of raw at 900 agents: counted up to 400 agents"
    )


def test_without_valgrind_the_counts_are_skipped_naming_the_install_command(suite, monkeypatch):
    monkeypatch.setattr("bench.cost.valgrind.shutil.which", lambda name: None)
    cache = suite.count_instructions([("shared", 16)])
    with pytest.raises(SkipNotImplemented) as skipped:
        suite.Firefly().track_instructions_per_generation(cache, "shared", 16)
    assert str(skipped.value) == (
        "instructions.per_generation of shared at 16 agents: valgrind is not installed: "
        "`sudo apt-get install valgrind` (Debian/Ubuntu)"
    )


@pytest.mark.parametrize("mode", ["per_agent", "shared", "bare", "raw"])
def test_agent_setup_creates_every_agent_and_teardown_closes_them(suite, mode):
    bench = suite.AgentSetup()
    bench.setup(mode, 16)
    bench.time_setup(mode, 16)
    lives = list(bench.lives)
    assert len(lives) == 16
    bench.teardown(mode, 16)
    assert {inspect.getcoroutinestate(life) for life in lives} == {inspect.CORO_CLOSED}


def test_asv_conf_points_inside_the_repo_and_under_results_asv():
    conf = json.loads((ROOT / "asv.conf.json").read_text(encoding="utf-8"))
    assert (ROOT / conf["benchmark_dir"] / "firefly.py").is_file()
    for key in ("results_dir", "html_dir", "env_dir"):
        assert Path(conf[key]).parts[:2] == ("results", "asv"), key
    assert (conf["repo"], conf["branches"], conf["pythons"]) == (".", ["main"], ["3.11"])
    assert conf["environment_type"] == "virtualenv"


def test_asv_discovers_the_benchmarks_with_tiny_sizes(tmp_path):
    out = tmp_path / "benchmarks.json"
    command = [sys.executable, "-m", "asv.benchmark", "discover", str(SUITE_DIR), str(out)]
    subprocess.run(command, cwd=tmp_path, env=_env(), check=True, timeout=60)
    found = {bench["name"]: bench for bench in json.loads(out.read_text(encoding="utf-8"))}
    expected = {f"firefly.Firefly.{name}" for name in TRACKS}
    expected |= {"firefly.AgentSetup.time_setup", "firefly.AgentSetup.peakmem_setup"}
    assert set(found) == expected
    assert found["firefly.Firefly.track_loop_lag_p99"]["unit"] == "ms"
    assert found["firefly.Firefly.track_loop_lag_p99"]["params"][1] == ["16"]


def test_asv_check_finds_no_problems():
    command = [sys.executable, "-m", "asv", "check", "--config", "asv.conf.json", "--python=same"]
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No problems found" in done.stdout


def _env():
    return {**os.environ, **TINY}
