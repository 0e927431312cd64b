"""--inject-slowdown: a spinning wrapper written into a temporary copy of the engine only."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bench
from bench.errors import BenchError
from bench.gate.sides import head_copy, run_folder
from bench.gate.slowdown import HOOK, HOOK_FILE, inject_slowdown

REPO = Path(bench.__file__).resolve().parents[1]

PROBE = textwrap.dedent(
    """
    import asyncio
    import time

    import cascade as cs
    from cascade.runtime import engine

    assert "Spin" in engine.Engine._chain.__doc__
    assert engine._gate_wrapped.__qualname__ == "Engine._chain"  # the original


    @cs.task
    def step(n, stop):
        sum(range(2_000))  # some CPU of the workload's own per generation
        return n if n == stop else step(n + 1, stop)


    result = asyncio.run(cs.Engine().run(step(0, 3_000)))
    state = engine._gate_state
    other = time.process_time() - state["start"] - state["spun"]
    print(result, round(state["spun"] / other, 2), cs.__file__)
    """
)


def test_the_slowdown_goes_into_the_copy_only():
    original = (REPO / HOOK_FILE).read_text(encoding="utf-8")
    with head_copy(REPO) as copy:
        inject_slowdown(copy, 0.15)
        patched = (copy / HOOK_FILE).read_text(encoding="utf-8")
        compile(patched, str(copy / HOOK_FILE), "exec")
        assert patched.startswith(original)
        assert f"{HOOK} = _gate_spinning" in patched[len(original) :]
        assert "Spin until the CPU spun so far is 0.15 x" in patched
    assert (REPO / HOOK_FILE).read_text(encoding="utf-8") == original


@pytest.mark.parametrize("fraction", [0, -1, 10, float("nan")])
def test_a_bad_fraction_is_refused_before_anything_is_written(fraction):
    with head_copy(REPO) as copy:
        before = (copy / HOOK_FILE).read_text(encoding="utf-8")
        with pytest.raises(BenchError, match=r"must be a fraction like 0\.15"):
            inject_slowdown(copy, fraction)
        assert (copy / HOOK_FILE).read_text(encoding="utf-8") == before


def test_an_engine_without_the_hook_call_is_refused(tmp_path):
    module = tmp_path / HOOK_FILE
    module.parent.mkdir(parents=True)
    module.write_text("class Engine:\n    async def run(self):\n        pass\n", encoding="utf-8")
    with pytest.raises(BenchError, match=f"has no {HOOK}\\(\\)") as error:
        inject_slowdown(tmp_path, 0.15)
    assert "HOOK in bench/gate/slowdown.py" in str(error.value)
    assert "per-generation method" in str(error.value)
    assert "_gate_" not in module.read_text(encoding="utf-8")


def test_a_copy_without_the_engine_module_is_refused(tmp_path):
    with pytest.raises(BenchError, match=HOOK):
        inject_slowdown(tmp_path, 0.15)


def test_the_injected_wrapper_forwards_to_the_original_build():
    with head_copy(REPO) as copy:
        inject_slowdown(copy, 0.5)
        with run_folder(harness=REPO, engine=copy) as folder:
            done = subprocess.run(
                [sys.executable, "-c", PROBE],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            result, spun_share, engine_file = done.stdout.split()
            assert result == "3000"  # step(0) tail-called its way to step(3000)
            # The spin kept pace with the rest: half as much CPU again (0.5), give or take
            # the last generation's share and the clock's resolution.
            assert 0.4 <= float(spun_share) <= 0.55, spun_share
            assert engine_file.startswith(str(folder))
