"""Frames are grouped by their file's path."""

import pytest

from bench.profiling.groups import GROUPS, classify_frame, classify_path


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("cascade/runtime/engine.py", "engine"),
        ("/home/me/cascade-bench/cascade/graph/build.py", "engine"),
        ("bench/workload/physics.py", "workload"),
        ("/home/me/cascade/bench/workload/modes.py", "workload"),  # a checkout named "cascade"
        ("bench/probes/loop_lag.py", "probes"),
        ("asyncio/base_events.py", "asyncio"),
        ("/usr/lib/python3.11/asyncio/tasks.py", "asyncio"),
        ("selectors.py", "asyncio"),
        ("/usr/lib/python3.11/selectors.py", "asyncio"),
        ("_asyncio.cpython-311-x86_64-linux-gnu.so", "asyncio"),
        ("bench/runner.py", "rest"),
        ("bench/profiling/setup_only.py", "rest"),
        ("concurrent/futures/thread.py", "rest"),
        ("<frozen importlib._bootstrap>", "rest"),
        ("C:\\work\\cascade\\runtime\\engine.py", "engine"),
        ("", "rest"),
        (None, "rest"),
    ],
)
def test_classify_path(path, group):
    assert classify_path(path) == group


def test_classify_frame_reads_the_path_of_a_py_spy_frame():
    assert classify_frame("Engine.run (cascade/runtime/engine.py:120)") == "engine"
    assert classify_frame("listen (bench/workload/physics.py)") == "workload"
    assert classify_frame("[no Python frame]") == "rest"


def test_groups_are_listed_in_table_order():
    assert GROUPS == ("engine", "workload", "asyncio", "probes", "rest")
