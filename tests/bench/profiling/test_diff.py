"""The differential profile: shares in A and B, ranked by the size of the change."""

from collections import Counter

from bench.profiling.diff import ShareChange, biggest_changes, differential, share_changes

RUN = "run (bench/runner.py:1)"
ENGINE = "Engine.__init__ (cascade/runtime/engine.py:3)"
STEP = "step (cascade/runtime/engine.py:9)"
LISTEN = "listen (bench/workload/physics.py:4)"

A = Counter({(RUN, STEP): 50, (RUN, ENGINE): 30, (RUN, LISTEN): 20})
B = Counter({(RUN, STEP): 60, (RUN, LISTEN): 40})


def test_share_changes_cover_functions_seen_in_either_profile():
    changes = {c.function: c for c in share_changes(A, B)}

    assert changes["Engine.__init__ (cascade/runtime/engine.py)"] == ShareChange(
        "Engine.__init__ (cascade/runtime/engine.py)", "engine", 30.0, 0.0, -30.0, 30.0, 0.0, -30.0
    )
    assert changes["listen (bench/workload/physics.py)"].self_delta == 20.0
    assert changes["step (cascade/runtime/engine.py)"].self_delta == 10.0
    assert changes["run (bench/runner.py)"].total_delta == 0.0


def test_biggest_changes_rank_by_absolute_delta_either_way():
    b = Counter({(RUN, STEP): 10, (RUN, LISTEN): 90})
    ranked = biggest_changes(share_changes(A, b), "self", n=3)

    assert [(c.function, c.self_delta) for c in ranked] == [
        ("listen (bench/workload/physics.py)", 70.0),
        ("step (cascade/runtime/engine.py)", -40.0),
        ("Engine.__init__ (cascade/runtime/engine.py)", -30.0),
    ]


def test_differential_is_json_ready_with_group_deltas():
    diff = differential(A, B, ("per_agent", "shared"), n=2)

    assert (diff["a"], diff["b"]) == ("per_agent", "shared")
    assert diff["samples"] == {"a": 100, "b": 100}
    engine = diff["groups"][0]
    assert engine == {
        "group": "engine",
        "leaf_a": 80.0,
        "leaf_b": 60.0,
        "leaf_delta": -20.0,
        "any_a": 80.0,
        "any_b": 60.0,
        "any_delta": -20.0,
    }
    assert [row["function"] for row in diff["by_self"]] == [
        "Engine.__init__ (cascade/runtime/engine.py)",
        "listen (bench/workload/physics.py)",
    ]
    assert diff["by_total"][0]["total_delta"] == -30.0
