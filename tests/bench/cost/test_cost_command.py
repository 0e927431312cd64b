"""`python -m bench cost`: bad input and a missing valgrind are refused before any work."""

import time

import pytest

from bench.cli import main
from bench.cost import valgrind
from bench.cost.valgrind import ChildRun, build_command, child_environment


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a measured run is started."""

    def refuse(*args, **kwargs):
        raise AssertionError("a measured run was started")

    monkeypatch.setattr(valgrind, "measure", refuse)
    monkeypatch.setattr("bench.commands.cost.measure", refuse)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "nope"], "unknown mode 'nope'"),
        (["--agents", "10"], "--agents must be a square number"),
        (["--agents", "4"], "--agents must be at least 9"),
        (["--duration", "0"], "--duration must be > 0 seconds, got 0.0"),
        (["--duration", "-1"], "--duration must be > 0 seconds"),
        (["--repeat", "0"], "--repeat must be at least 1"),
    ],
)
def test_bad_input_is_refused_with_exit_2(args, message, capsys, no_work):
    started = time.perf_counter()

    status = main(["cost", *args, "--quiet"])

    assert status == 2
    assert time.perf_counter() - started < 2.0
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ")
    assert message in captured.err
    assert captured.out == ""


def test_missing_valgrind_says_how_to_install_it(monkeypatch, capsys, no_work):
    real_which = valgrind.shutil.which
    monkeypatch.setattr(
        valgrind.shutil, "which", lambda name: None if name == "valgrind" else real_which(name)
    )

    status = main(["cost", "--agents", "9", "--quiet"])

    assert status == 2
    err = capsys.readouterr().err
    assert "valgrind is not installed" in err
    assert "sudo apt-get install valgrind" in err


def test_the_command_line_turns_aslr_off_and_runs_the_child_under_callgrind(tmp_path):
    child = ChildRun("raw", 100, 5.0, seed=3, slowdown_iterations=7)

    command = build_command(
        child, tmp_path / "cg.out", valgrind="/usr/bin/valgrind", python="py", arch="x86_64"
    )

    assert command[:5] == [
        "setarch",
        "x86_64",
        "-R",
        "/usr/bin/valgrind",
        "--tool=callgrind",
    ]
    assert f"--callgrind-out-file={tmp_path / 'cg.out'}" in command
    tail = command[command.index("py") :]
    assert tail == [
        "py",
        "-B",
        "-X",
        "frozen_modules=on",
        "-m",
        "bench.cost.child",
        "--mode",
        "raw",
        "--agents",
        "100",
        "--duration",
        "5",
        "--seed",
        "3",
        "--slowdown-iterations",
        "7",
    ]
    assert build_command(child, tmp_path / "x", setarch=None)[0] == "valgrind"


def test_the_child_environment_fixes_the_hash_seed(monkeypatch):
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")

    env = child_environment()

    assert env["PYTHONHASHSEED"] == "0"
    assert "PYTHONPROFILEIMPORTTIME" not in env


def test_one_measurement_takes_the_differences_of_its_four_runs():
    from bench.commands.cost import CostOptions, children, measure_once
    from bench.cost.callgrind import Profile
    from bench.cost.difference import Sample
    from bench.cost.valgrind import Measured

    runs = children(CostOptions(mode="raw", agents=100, duration=5.0))
    assert [(run.agents, run.duration) for run in runs] == [
        (100, 5.0),
        (100, 10.0),
        (25, 0),
        (100, 0),
    ]

    def fake(child):
        generations = int(child.duration * 100)
        instructions = 1_000_000 + 1_000 * child.agents + 500 * generations
        counts = {"agents": child.agents, "generations": generations, "messages": generations}
        profile = Profile(instructions, {"eval": instructions}, {"eval": instructions})
        return Measured(Sample(instructions, counts), profile, ["fake"])

    done = measure_once(runs, fake)

    assert done.figures.per_generation == 500.0
    assert done.figures.per_message == 500.0
    assert done.figures.per_agent_setup == 1000.0
    assert [(f.name, f.self_per_generation) for f in done.functions] == [("eval", 500.0)]


def test_the_instruction_slowdown_spins_a_fixed_loop():
    from bench.cost.spin import InstructionSlowdown, cost_spin

    slowdown = InstructionSlowdown(3)
    slowdown.after_generation(None, "run-1", 1, None)

    assert slowdown.last == cost_spin(3) == 57305  # 1 -> 149 -> 11249 -> 57305
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        InstructionSlowdown(-1)
