"""Top functions by self and total time, and group shares, from synthetic stacks."""

from collections import Counter

from bench.profiling.top import (
    FunctionShare,
    group_shares,
    profile_table,
    run_table,
    top_functions,
)

MAIN = "main (bench/runner.py:1)"
LOOP = "_run_once (asyncio/base_events.py:10)"
ENGINE = "Engine.run (cascade/runtime/engine.py:5)"
ENGINE_OTHER_LINE = "Engine.run (cascade/runtime/engine.py:7)"
FIB = "fib (bench/workload/physics.py:3)"
FIB_OTHER_LINE = "fib (bench/workload/physics.py:4)"
SELECT = "select (selectors.py:468)"

STACKS = Counter(
    {
        (MAIN, LOOP, ENGINE, FIB, FIB_OTHER_LINE, FIB): 6,  # recursion: fib three times
        (MAIN, LOOP, ENGINE_OTHER_LINE): 2,
        (MAIN, LOOP, SELECT): 2,
    }
)


def test_self_time_counts_the_leaf_and_lines_of_one_function_add_up():
    top = top_functions(STACKS, "self")

    assert [(s.function, s.self_samples, s.self_pct) for s in top] == [
        ("fib (bench/workload/physics.py)", 6, 60.0),
        ("Engine.run (cascade/runtime/engine.py)", 2, 20.0),
        ("select (selectors.py)", 2, 20.0),
        ("_run_once (asyncio/base_events.py)", 0, 0.0),  # ties: by name
        ("main (bench/runner.py)", 0, 0.0),
    ]


def test_total_time_counts_a_recursive_function_once_per_stack():
    top = {s.function: s for s in top_functions(STACKS, "total")}

    assert top["fib (bench/workload/physics.py)"].total_samples == 6
    assert top["fib (bench/workload/physics.py)"].total_pct == 60.0
    assert top["Engine.run (cascade/runtime/engine.py)"].total_samples == 8
    assert top["main (bench/runner.py)"].total_pct == 100.0


def test_total_ranking_breaks_ties_by_self_then_name():
    top = top_functions(STACKS, "total", n=3)

    assert [s.function for s in top] == [
        "_run_once (asyncio/base_events.py)",
        "main (bench/runner.py)",
        "Engine.run (cascade/runtime/engine.py)",
    ]


def test_a_share_knows_its_group():
    top = top_functions(STACKS, "self", n=1)

    assert top == [FunctionShare("fib (bench/workload/physics.py)", "workload", 60.0, 60.0, 6, 6)]


def test_group_shares_by_leaf_and_by_any_frame():
    shares = {g.group: g for g in group_shares(STACKS)}

    assert (shares["workload"].leaf_pct, shares["workload"].any_pct) == (60.0, 60.0)
    assert (shares["engine"].leaf_pct, shares["engine"].any_pct) == (20.0, 80.0)
    assert (shares["asyncio"].leaf_pct, shares["asyncio"].any_pct) == (20.0, 100.0)
    assert (shares["probes"].leaf_samples, shares["probes"].any_samples) == (0, 0)
    assert (shares["rest"].leaf_pct, shares["rest"].any_pct) == (0.0, 100.0)
    assert sum(g.leaf_samples for g in shares.values()) == 10


def test_profile_table_is_json_ready_and_names_its_unit():
    table = profile_table(STACKS, n=2, unit="bytes")

    assert table["bytes"] == 10
    assert [row["group"] for row in table["groups"]] == [
        "engine", "workload", "asyncio", "probes", "rest",
    ]  # fmt: skip
    assert table["groups"][0] == {
        "group": "engine", "leaf_pct": 20.0, "any_pct": 80.0, "leaf_bytes": 2, "any_bytes": 8,
    }  # fmt: skip
    assert table["top_self"][0] == {
        "function": "fib (bench/workload/physics.py)",
        "group": "workload",
        "self_pct": 60.0,
        "total_pct": 60.0,
        "self_bytes": 6,
        "total_bytes": 6,
    }
    assert len(table["top_total"]) == 2


def test_run_table_leaves_the_imports_out_and_says_how_much_they_were():
    importing = (
        "<module> (bench/__main__.py:1)",
        "_find_and_load (<frozen importlib._bootstrap>:1)",
    )
    stacks = STACKS + Counter({importing: 30})

    table = run_table(stacks)

    assert (table["all_samples"], table["imports_pct"], table["samples"]) == (40, 75.0, 10)
    kept = ("groups", "top_self", "top_total")
    assert {key: table[key] for key in kept} == {key: profile_table(STACKS)[key] for key in kept}
    assert run_table(STACKS)["imports_pct"] == 0.0


def test_no_samples_gives_an_empty_table_not_a_division_by_zero():
    table = profile_table(Counter())

    assert table["samples"] == 0
    assert table["top_self"] == []
    assert all(row["leaf_pct"] == 0.0 for row in table["groups"])
