"""--inject-slowdown: an instrument that spins after each generation, registered by `bench run`."""

import asyncio
import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import bench
import cascade as cs
from bench.cli import main
from bench.errors import BenchError
from bench.slowdown import Slowdown, check_fraction

REPO = Path(bench.__file__).resolve().parents[1]


class FakeClock:
    """Process time that moves only when told to, or by `tick` at every reading (a spin)."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 100.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


@pytest.mark.parametrize("fraction", [0, -1, 10, math.nan])
def test_a_bad_fraction_is_refused(fraction):
    with pytest.raises(BenchError, match=r"^--inject-slowdown must be a fraction like 0\.15, got "):
        check_fraction(fraction)
    with pytest.raises(BenchError, match=r"must be a fraction like 0\.15"):
        Slowdown(fraction)


def test_the_spin_is_the_fraction_of_everything_else_from_the_first_generation_on():
    clock = FakeClock(tick=0.001)
    slowdown = Slowdown(0.25, clock=clock)
    slowdown.after_generation(cs.Engine(), "run-1", 1, None)  # the start: nothing owed yet
    start = clock.now
    for _ in range(20):
        clock.now += 1.0  # a generation's own CPU
        slowdown.after_generation(cs.Engine(), "run-1", 2, None)
    other = clock.now - start - slowdown.spun
    assert slowdown.spun == pytest.approx(0.25 * other, abs=0.002)


def test_only_the_after_generation_hook_is_overridden():
    overridden = {
        name
        for name in ("run_started", "before_generation", "after_generation", "run_finished")
        if getattr(Slowdown, name) is not getattr(cs.Instrument, name)
    }
    assert overridden == {"after_generation"}


@cs.task
def step(n: int, stop: int) -> object:
    sum(range(2_000))  # some CPU of the workload's own per generation
    return n if n == stop else step(n + 1, stop)


def test_registered_process_wide_it_slows_every_engine_by_its_fraction():
    slowdown = Slowdown(0.5)
    cs.add_instrument(slowdown)
    try:
        assert asyncio.run(cs.Engine().run(step(0, 3_000))) == 3_000
    finally:
        cs.remove_instrument(slowdown)
    assert slowdown.start is not None
    other = time.process_time() - slowdown.start - slowdown.spun
    # Half as much CPU again, give or take the last generation's share and the clock.
    assert 0.4 <= slowdown.spun / other <= 0.55


def test_bench_run_registers_it_for_the_run_only(tmp_path):
    out = tmp_path / "slowed.json"
    args = ["run", "--mode", "per_agent", "--agents", "16", "--duration", "2"]
    args += ["--clock", "virtual", "--inject-slowdown", "0.2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["config"]["inject_slowdown"] == 0.2
    assert document["metrics"]["work"]["generations"] > 0
    assert not cs.runtime.instruments.PROCESS.registered()  # removed when the run ended


def test_the_option_is_hidden_from_help(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["run", "--help"]) == 0
    assert "inject" not in capsys.readouterr().out


WITHOUT_INSTRUMENTS = textwrap.dedent(
    """
    import sys

    import cascade

    for name in ("Instrument", "add_instrument", "remove_instrument"):
        delattr(cascade, name)  # an engine from before instruments, as a gate's base may be
    from bench.cli import main

    status = main(sys.argv[1:])
    print("bench.slowdown" in sys.modules)
    sys.exit(status)
    """
)


def _run_without_instruments(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["run", "--mode", "shared", "--agents", "16", "--duration", "1", "--clock", "virtual"]
    args += ["--quiet", "--out", str(tmp_path / "out.json"), *extra]
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_INSTRUMENTS, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_plain_run_needs_no_instruments_from_the_engine(tmp_path):
    done = _run_without_instruments(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"  # the slowdown's module was never imported


def test_asking_an_engine_without_instruments_for_a_slowdown_is_refused(tmp_path):
    done = _run_without_instruments(tmp_path, "--inject-slowdown", "0.15")
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: --inject-slowdown needs an engine with instruments (cascade.add_instrument); "
        "the engine at "
    )
    assert not (tmp_path / "out.json").exists()
