"""`python -m bench gate` through the CLI: exit statuses, gate.json/gate.md, one real run."""

import json
import os
import shutil
import signal
import time

import pyperf
import pytest

import bench.commands.gate as gate_module
from bench.cli import main
from bench.errors import BenchError
from bench.gate.compare import cannot_run
from bench.stopping import Terminated
from bench.suite.pyperf_suite import load_suite_file


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def gate(tmp_path, *args):
    return main(["gate", *args, "--results-dir", str(tmp_path), "--quiet"])


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if a comparison would start measuring."""

    def refuse(*args, **kwargs):
        pytest.fail("the gate started measuring")

    monkeypatch.setattr(gate_module, "compare_sides", refuse)
    monkeypatch.setattr(gate_module, "compare_with_baseline", refuse)


def test_a_base_that_does_not_resolve_cannot_run(tmp_path, no_runs):
    assert gate(tmp_path, "--base", "no-such-ref") == 2
    data = load(tmp_path / "gate.json")
    assert data["status"] == "cannot_run" and data["exit_code"] == 2
    assert "'no-such-ref'" in data["reason"]
    assert data["checks"] == [] and data["runs"] == 0
    markdown = (tmp_path / "gate.md").read_text(encoding="utf-8")
    assert "COULD NOT RUN: git ref 'no-such-ref' does not resolve" in markdown


def test_a_head_that_does_not_resolve_cannot_run(tmp_path, no_runs):
    assert gate(tmp_path, "--head", "no-such-head", "--base", "HEAD") == 2
    assert "'no-such-head'" in load(tmp_path / "gate.json")["reason"]


def test_base_and_baseline_together_are_refused(tmp_path, no_runs, capsys):
    status = gate(tmp_path, "--base", "HEAD", "--baseline", str(tmp_path / "suite.json"))
    assert status == 2
    assert "error: use --base REF or --baseline FILE, not both" in capsys.readouterr().err
    assert not (tmp_path / "gate.json").exists()  # bad command-line input: no report


def test_too_few_pairs_are_refused(tmp_path, no_runs, capsys):
    assert gate(tmp_path, "--pairs", "3") == 2
    assert "pairs must be at least 5, got 3" in capsys.readouterr().err
    assert not (tmp_path / "gate.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modes", "fast"], "unknown mode 'fast'"),
        (["--agents", "10"], "--agents must be a square number"),
        (["--confidence", "1.5"], "confidence must be between 0 and 1"),
        (["--validate", "--base", "HEAD"], "--validate compares the working tree with itself"),
        (["--validate", "--validate-runs", "0"], "--validate-runs must be at least 1"),
    ],
)
def test_bad_options_are_refused_before_any_run(tmp_path, no_runs, capsys, args, message):
    assert gate(tmp_path, *args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "text", ["[]", "null", '{"benchmarks": [5]}', '{"schema": 1, "meta": {}}', "{not json"]
)
def test_a_baseline_that_is_not_a_suite_is_refused_before_any_run(tmp_path, no_runs, capsys, text):
    suite = tmp_path / "suite.json"
    suite.write_text(text, encoding="utf-8")
    results = tmp_path / "results"
    with pytest.raises(BenchError) as refused:
        load_suite_file(suite)  # its own messages are tested with it; here: named, one line
    assert gate(results, "--baseline", str(suite)) == 2
    assert capsys.readouterr().err == f"error: --baseline: {refused.value}\n"
    assert not (results / "gate.json").exists()  # bad command-line input: no report


def test_a_baseline_that_is_a_list_says_so(tmp_path, no_runs, capsys):
    suite = tmp_path / "suite.json"
    suite.write_text("[]", encoding="utf-8")
    assert gate(tmp_path, "--baseline", str(suite)) == 2
    assert capsys.readouterr().err == (
        f"error: --baseline: {suite} is not a pyperf suite: expected a JSON object with a "
        '"benchmarks" list of objects (as `bench suite` writes), found a list\n'
    )


def test_a_missing_baseline_file_is_refused_before_any_run(tmp_path, no_runs, capsys):
    missing = tmp_path / "no-such-suite.json"
    assert gate(tmp_path, "--baseline", str(missing)) == 2
    assert capsys.readouterr().err == (
        f"error: --baseline: cannot read suite {missing}: [Errno 2] No such file or directory: "
        f"'{missing}'\n"
    )
    assert not (tmp_path / "gate.json").exists()


def write_suite(path, agents, duration=0.5):
    """A stored suite of raw's CPU per generation: three runs at `agents`."""
    runs = [
        pyperf.Run(
            [value * 1e-6],
            metadata={
                "name": f"work.cpu_us_per_generation/raw/{agents}",
                "unit": "second",
                "workload_duration_s": duration,
            },
            collect_metadata=False,
        )
        for value in (300.0, 310.0, 320.0)
    ]
    pyperf.BenchmarkSuite([pyperf.Benchmark(runs)]).dump(str(path))


def test_a_baseline_without_the_gates_size_is_refused_before_any_run(tmp_path, no_runs, capsys):
    suite = tmp_path / "suite.json"
    write_suite(suite, agents=25)
    results = tmp_path / "results"
    assert gate(results, "--baseline", str(suite), "--modes", "raw", "--agents", "16") == 2
    assert capsys.readouterr().err == (
        f"error: --baseline {suite} has no 16-agent runs of raw (it has agents 25); "
        "pass --agents N with one of them\n"
    )
    assert not (results / "gate.json").exists()


def test_a_baseline_with_a_bad_run_length_is_refused_before_any_run(tmp_path, no_runs, capsys):
    suite = tmp_path / "suite.json"
    write_suite(suite, agents=16, duration="long")
    results = tmp_path / "results"
    assert gate(results, "--baseline", str(suite), "--modes", "raw", "--agents", "16") == 2
    assert capsys.readouterr().err == (
        f"error: --baseline {suite}: its runs' workload_duration_s must be a number of seconds "
        "> 0, got 'long'\n"
    )


def test_a_baseline_suite_is_compared_at_its_run_length(tmp_path, monkeypatch):
    suite = tmp_path / "suite.json"
    write_suite(suite, agents=16, duration=0.5)
    seen = {}

    def compare(stored, label, head, settings, runs_dir, console):
        seen.update(stored=stored, label=label, duration=settings.duration)
        return cannot_run("stop here", settings, None, head)

    monkeypatch.setattr(gate_module, "compare_with_baseline", compare)
    assert gate(tmp_path, "--baseline", str(suite), "--modes", "raw", "--agents", "16") == 2
    assert seen["label"] == str(suite) and seen["duration"] == 0.5
    assert seen["stored"]["raw"]["work.cpu_us_per_generation"] == pytest.approx([300, 310, 320])


def test_a_bad_slowdown_fraction_cannot_run(tmp_path, no_runs):
    assert gate(tmp_path, "--base", "HEAD", "--inject-slowdown", "0") == 2
    assert "must be a fraction like 0.15" in load(tmp_path / "gate.json")["reason"]


def test_an_injected_slowdown_slows_the_head_side_in_place(tmp_path, monkeypatch):
    seen = {}

    def compare(base, head, settings, runs_dir, console):
        seen.update(base=base, head=head)
        return cannot_run("stop here", settings, base, head)

    monkeypatch.setattr(gate_module, "compare_sides", compare)
    assert gate(tmp_path, "--base", "HEAD", "--inject-slowdown", "0.2") == 2
    head, base = seen["head"], seen["base"]
    assert head.slowdown == 0.2 and base.slowdown is None
    assert head.source == gate_module._ROOT  # no copy of the engine: an instrument does it
    assert head.label.endswith(" + 20% injected slowdown")


def test_a_base_without_the_engine_still_writes_gate_json(tmp_path, monkeypatch, git, commit_all):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    (repo / "bench").mkdir(parents=True)
    (repo / "bench" / "__init__.py").write_text("")
    git(repo, "init", "--quiet", "-b", "main")
    old = commit_all(repo, "harness only")
    (repo / "cascade").mkdir()
    (repo / "cascade" / "__init__.py").write_text("")
    commit_all(repo, "add the engine")
    monkeypatch.setattr(gate_module, "_ROOT", repo)
    results = tmp_path / "results"
    assert gate(results, "--base", old) == 2
    data = load(results / "gate.json")
    assert data["status"] == "cannot_run" and "cascade" in data["reason"]


@pytest.mark.looptime(False)
@pytest.mark.timeout(120)
def test_a_small_real_gate_of_head_against_itself(tmp_path):
    status = gate(
        tmp_path,
        # Both sides checked out from HEAD: identical whatever the working tree holds.
        *("--base", "HEAD", "--head", "HEAD", "--modes", "raw"),
        *("--agents", "16", "--duration", "0.3"),
        *("--pairs", "5"),
    )
    assert status in (0, 1)  # real timing noise may fail a check; it must not break the gate
    data = load(tmp_path / "gate.json")
    assert data["exit_code"] == status
    assert data["status"] == ("pass" if status == 0 else "regression")
    assert data["runs"] == 12  # 2 virtual-clock runs + 5 pairs of real-clock runs
    assert data["settings"]["modes"] == ["raw"] and data["settings"]["agents"] == 16
    assert data["base"]["label"] == "HEAD"
    assert data["base"]["commit"] == data["head"]["commit"]
    deterministic = [c for c in data["checks"] if c["family"] == "deterministic"]
    assert len(deterministic) == 6
    for check in deterministic:
        assert check["verdict"] == "pass", check
        assert check["note"] in ("identical", "within tolerance 1.0%"), check
    counted = [c for c in data["checks"] if c["family"] == "instructions"]
    if shutil.which("valgrind") is None:  # skipped, with a note saying how to install it
        assert counted == [] and "apt-get install valgrind" in " ".join(data["notes"])
    else:  # both sides are one commit: the same count
        (check,) = counted
        assert check["verdict"] == "pass" and check["mode"] == "raw", check
        assert abs(check["change"]) < 0.01
    timing = [c for c in data["checks"] if c["family"] == "timing"]
    assert len(timing) == 4
    assert all(c["verdict"] in ("pass", "warn", "fail", "improved", "skip") for c in timing)
    assert (tmp_path / "gate.md").read_text(encoding="utf-8").startswith("# Performance gate")
    assert len(list((tmp_path / "runs").glob("gate-*/*.json"))) == 12


def test_sigterm_stops_the_comparison_as_ctrl_c_does(tmp_path, monkeypatch):
    """What a CI timeout sends: measure's Ctrl-C path (stop the worker, keep the runs) serves it."""
    suite = tmp_path / "suite.json"
    write_suite(suite, agents=16, duration=0.5)
    stops = []

    def compare(stored, label, head, settings, runs_dir, console):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # a worker's run, cut short by the signal
        except KeyboardInterrupt as stop:
            stops.append(type(stop))
        return cannot_run("stopped", settings, None, head)

    monkeypatch.setattr(gate_module, "compare_with_baseline", compare)
    previous = signal.getsignal(signal.SIGTERM)
    assert gate(tmp_path, "--baseline", str(suite), "--modes", "raw", "--agents", "16") == 2
    assert stops == [Terminated]
    assert signal.getsignal(signal.SIGTERM) is previous  # restored once the gate is done
