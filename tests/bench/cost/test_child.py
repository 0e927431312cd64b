"""The cost child's segments, in-process on the virtual clock (no valgrind)."""

import asyncio
import os

from bench.cost.child import run_segments
from bench.cost.opcodes import OpcodeCounter
from bench.cost.segments import SEGMENTS
from bench.loops import loop_factory
from bench.source import function_name, short_path
from bench.workload import make_config


def run(mode, counter=None):
    marks = []
    config = make_config(agents=9, duration=2.0, seed=1)
    other = make_config(agents=36, duration=2.0, seed=1)
    with asyncio.Runner(loop_factory=loop_factory("asyncio", "virtual")) as runner:
        done = runner.run(
            run_segments(config, other, mode, 0.5, 1.0, counter, marker=lambda: marks.append(1))
        )
    return done, marks


def test_every_segment_ends_with_one_marker_call_and_reports_its_counts():
    done, marks = run("shared")

    assert [segment["name"] for segment in done["segments"]] == list(SEGMENTS)
    assert len(marks) == len(SEGMENTS)
    by_name = {segment["name"]: segment for segment in done["segments"]}
    assert by_name["set-up-other"]["agents"] == 36
    assert by_name["set-up"]["agents"] == 9
    assert by_name["measured"]["generations"] > 0
    assert done["agent_errors"] == 0


def test_the_same_arguments_do_the_same_work():
    assert run("raw")[0] == run("raw")[0]


def test_the_opcode_counter_names_the_python_functions_of_the_measured_segment():
    counter = OpcodeCounter()
    run("shared", counter)
    again = OpcodeCounter()
    run("shared", again)

    counts = counter.by_function()
    assert any(name.startswith("Engine._run (cascade/runtime/engine.py:") for name in counts)
    assert counts == again.by_function()  # deterministic
    assert all(count > 0 for count in counts.values())


def test_function_names_hold_the_file_under_its_sys_path_entry():
    assert function_name(test_function_names_hold_the_file_under_its_sys_path_entry.__code__)
    assert short_path(os.path.abspath("bench/cost/child.py")).endswith("bench/cost/child.py")
    assert short_path("/nowhere/x.py") == "/nowhere/x.py"
