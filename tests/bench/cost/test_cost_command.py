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
    monkeypatch.setattr("bench.commands.cost.measure_costs", refuse)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "nope"], "unknown mode 'nope'"),
        (["--agents", "10"], "--agents must be a square number"),
        (["--agents", "4"], "--agents must be at least 9"),
        (["--duration", "0"], "--duration must be > 0 seconds, got 0.0"),
        (["--duration", "-1"], "--duration must be > 0 seconds"),
        (["--repeat", "0"], "--repeat must be at least 1"),
        (["--warmup", "-1"], "--warmup must be at least 0 seconds"),
        (["--threshold", "1.5"], "--threshold must be a fraction"),
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
    child = ChildRun("raw", 100, 5.0, 2.0, seed=3, slowdown_iterations=7, layout=4)

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
    assert "--dump-before=sched_yield" in command  # one profile per segment
    tail = command[command.index("py") :]
    assert tail == [
        "py",
        "-X",
        "frozen_modules=on",
        "-m",
        "bench.cost.child",
        "--mode",
        "raw",
        "--agents",
        "100",
        "--setup-agents",
        "25",
        "--warmup",
        "2",
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

    env = child_environment(layout=4)

    assert env["PYTHONHASHSEED"] == "0"
    assert env["BENCH_COST_LAYOUT"] == "4"
    assert "PYTHONPROFILEIMPORTTIME" not in env


def test_one_measurement_reads_figures_and_functions_from_the_segments(monkeypatch):
    from bench.cost import measure as cost_measure
    from bench.cost.callgrind import Profile
    from bench.cost.segments import Segment
    from bench.cost.valgrind import Measured

    def fake(child, valgrind=None, cwd=None):
        def part(name, instructions, **counts):
            return Segment(name, counts, Profile(instructions, {"eval": instructions}, {}))

        return Measured(
            [
                part("start-up", 9_000_000),
                part("set-up-other", 1_000 * 25, agents=25),
                part("take-down-other", 10),
                part("set-up", 1_000 * child.agents, agents=child.agents),
                part("warm-up", 123_456, generations=7),
                part("measured", 500 * 300, generations=300, messages=150),
            ],
            ["fake"],
        )

    monkeypatch.setattr(cost_measure, "measure", fake)

    done = cost_measure.measure_cost(ChildRun("raw", 100, 3.0, 1.0))

    assert done.figures.per_generation == 500.0
    assert done.figures.per_message == 1000.0
    assert done.figures.per_agent_setup == 1000.0
    assert [(f.name, f.self_per_generation) for f in done.functions] == [("eval", 500.0)]


def test_the_calibration_turns_a_fraction_into_iterations():
    from bench.cost.spin import Calibration

    # hook 8,000 + 700 per iteration, measured at 1 and 101 iterations on 700,000
    scale = Calibration.from_runs(700_000, 708_700, 778_700)

    assert scale.hook == pytest.approx(8_000)
    assert scale.per_iteration == pytest.approx(700)
    assert scale.iterations_for(0.02, 700_000) == 9  # (14,000 - 8,000) / 700 = 8.6
    assert scale.injected(9, 700_000) == pytest.approx((8_000 + 6_300) / 700_000)
    assert scale.iterations_for(0.001, 700_000) == 1  # the hook alone costs more
    assert Calibration.from_runs(600_000, 600_010, 600_010).iterations_for(0.02, 6e5) is None
    # raw (no engine) seen through the layouts' noise: 0.68 instructions "per iteration"
    assert Calibration.from_runs(621_612, 621_600, 621_668).iterations_for(0.02, 621_612) is None


def test_the_instruction_slowdown_spins_a_fixed_loop():
    from bench.cost.spin import InstructionSlowdown, cost_spin

    slowdown = InstructionSlowdown(3)
    slowdown.after_generation(None, "run-1", 1, None)

    assert slowdown.last == cost_spin(3) == 57305  # 1 -> 149 -> 11249 -> 57305
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        InstructionSlowdown(-1)
