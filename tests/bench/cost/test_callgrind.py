"""The callgrind.out parser, per-generation figures and top movers (pure)."""

import pytest

from bench.cost.callgrind import (
    CallgrindFormatError,
    Profile,
    parse_callgrind,
    per_generation,
    top_movers,
)

# main calls work (twice, 300 inclusive) and leaf; work calls leaf; work'2 is a deeper
# recursion level of work (merged into work), which calls itself directly once.
SMALL = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 1000

ob=(1) /usr/bin/python
fl=(1) main.c
fn=(1) main
0 100
cfn=(2) work
calls=2 0
0 300
cfl=(2) leaf.c
cfn=(3) leaf
calls=1 0
0 50
0 10

fl=(1)
fn=(2)
0 200
cfn=(3)
calls=1 0
0 40
fi=(3) inline.h
0 5

fn=(4) work'2
0 95
cfn=(4)
calls=1 0
0 7

fl=(2)
fn=(3)
0 90

ob=(2) /lib/libc.so
fl=(4) ???
fn=(5) 0x0000000000001080
0 500
totals: 1000
"""


def test_self_costs_add_up_to_the_total():
    profile = parse_callgrind(SMALL.splitlines())

    assert profile.total == 1000
    assert profile.self_cost == {
        "main": 110,
        "work": 300,  # 200 + 5 (inline file) + 95 (recursion level 2)
        "leaf": 90,
        "0x0000000000001080": 500,
    }
    assert sum(profile.self_cost.values()) == profile.total


def test_inclusive_counts_calls_to_other_functions_not_direct_self_calls():
    profile = parse_callgrind(SMALL.splitlines())

    assert profile.inclusive["main"] == 110 + 300 + 50
    assert profile.inclusive["work"] == 300 + 40  # the 7 of work'2 calling itself: not again
    assert profile.inclusive["leaf"] == 90


def test_without_totals_the_summary_or_the_sum_is_the_total():
    lines = [line for line in SMALL.splitlines() if not line.startswith("totals")]
    assert parse_callgrind(lines).total == 1000
    lines = [line for line in lines if not line.startswith("summary")]
    assert parse_callgrind(lines).total == 1000


def test_a_compressed_name_used_before_it_is_defined_is_refused():
    with pytest.raises(CallgrindFormatError, match=r"name \(7\) used before"):
        parse_callgrind(["events: Ir", "fn=(7)", "0 5"])


def test_text_that_is_not_callgrind_is_refused():
    with pytest.raises(CallgrindFormatError, match="no events"):
        parse_callgrind(["version: 1", "fn=main"])
    with pytest.raises(CallgrindFormatError, match="cannot read 'hello world'"):
        parse_callgrind(["hello world"])
    with pytest.raises(CallgrindFormatError, match="before any fn"):
        parse_callgrind(["events: Ir", "0 5"])


def test_per_generation_divides_each_function_by_the_generations():
    profile = Profile(900, {"a": 300, "b": 500, "c": 100}, {"a": 900, "b": 500, "c": 100})

    costs = per_generation(profile, generations=100)

    assert [(c.name, c.self_per_generation, c.inclusive_per_generation) for c in costs] == [
        ("b", 5.0, 5.0),
        ("a", 3.0, 9.0),
        ("c", 1.0, 1.0),
    ]
    with pytest.raises(ValueError, match="no generations"):
        per_generation(profile, generations=0)


def test_top_movers_rank_growth_and_leave_out_what_shrank():
    base = {"eval": 1000.0, "dict": 200.0, "gone": 50.0, "same": 10.0}
    head = {"eval": 1300.0, "dict": 210.0, "new": 40.0, "same": 10.0}

    movers = top_movers(base, head, n=5)

    assert [(m.name, m.change) for m in movers] == [("eval", 300.0), ("new", 40.0), ("dict", 10.0)]
    assert [m.name for m in top_movers(base, head, n=1)] == ["eval"]
