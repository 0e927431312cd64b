from collections import Counter

import pytest

from bench.errors import BenchError
from bench.suite.matrix import PROFILES, interleaved, make_matrix, repeated_notes


def test_default_profile_is_the_issue_matrix():
    matrix = make_matrix()
    assert matrix.modes == ("per_agent", "shared", "bare", "raw")
    assert matrix.agents == (400, 900, 2500)
    assert matrix.repeat == 3


def test_full_adds_the_big_sizes():
    assert PROFILES["full"].agents[-2:] == (4900, 10000)


def test_overrides_replace_profile_values():
    matrix = make_matrix("quick", modes=["raw"], agents=[16], duration=1.5, repeat=4)
    assert (matrix.modes, matrix.agents, matrix.duration, matrix.repeat) == (
        ("raw",),
        (16,),
        1.5,
        4,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "huge"}, "unknown profile 'huge'; choose one of: quick, default, full"),
        ({"modes": ["turbo"]}, "unknown mode 'turbo'; choose one of: per_agent, shared, bare, raw"),
        ({"repeat": 0}, "--repeat must be at least 1, got 0"),
        ({"duration": 0.0}, "--duration must be > 0 seconds, got 0.0"),
        (
            {"agents": [50]},
            "--agents must be a square number (agents sit on a square grid), got 50: "
            "the nearest are 49 (7x7) and 64 (8x8)",  # the suite has no --grid-side to offer
        ),
    ],
)
def test_bad_input_is_refused_with_the_fix(kwargs, message):
    with pytest.raises(BenchError) as raised:
        make_matrix(**kwargs)
    assert str(raised.value) == message


def test_a_mode_or_size_named_twice_is_measured_once_in_the_order_given():
    matrix = make_matrix("quick", modes=["raw", "shared", "raw"], agents=[36, 16, 36, 36])
    assert (matrix.modes, matrix.agents) == (("raw", "shared"), (36, 16))
    assert len(interleaved(matrix)) == 2 * 2 * matrix.repeat  # no duplicate column or run file


def test_repeated_values_get_one_note_each():
    assert repeated_notes(["shared", "shared", "raw"], [16, 16, 16, 36]) == [
        "--modes names shared twice; measuring it once",
        "--agents names 16 3 times; measuring it once",
    ]
    assert repeated_notes(None, [16, 36]) == []


def test_interleaving_runs_every_config_once_per_round():
    matrix = make_matrix("quick", agents=[16, 36], repeat=3)
    order = interleaved(matrix)
    per_round = len(matrix.modes) * 2
    assert len(order) == per_round * 3
    rounds = [order[i : i + per_round] for i in range(0, len(order), per_round)]
    for index, round_ in enumerate(rounds):
        assert {r for _, r in round_} == {index}
        assert sorted(c.label for c, _ in round_) == sorted(c.label for c in matrix.configs)
    assert Counter(c.label for c, _ in order) == {c.label: 3 for c in matrix.configs}


def test_interleaving_rotates_which_mode_goes_first():
    matrix = make_matrix("quick", modes=["per_agent", "shared", "raw"], agents=[16], repeat=3)
    firsts = [[c.mode for c, r in interleaved(matrix) if r == n] for n in range(3)]
    assert firsts == [
        ["per_agent", "shared", "raw"],
        ["shared", "raw", "per_agent"],
        ["raw", "per_agent", "shared"],
    ]


def test_a_size_beyond_the_machines_memory_is_refused_before_any_run(monkeypatch):
    monkeypatch.setattr("bench.workload.capacity.available_memory", lambda: 2**30)

    with pytest.raises(BenchError) as raised:
        make_matrix("quick", modes=["raw"], agents=[1_000_000])

    assert str(raised.value) == (
        "--agents 1000000 in mode raw needs about 11 GiB (11 KiB per agent, measured) "
        "but 1.0 GiB is available; use at most 85,849 (293x293)"
    )
