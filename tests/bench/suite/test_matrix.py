from collections import Counter

import pytest

from bench.errors import BenchError
from bench.suite.layout import LOCAL, Layout
from bench.suite.matrix import PROFILES, Profile, interleaved, make_matrix, repeated_notes


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
        ({"profile": "huge"}, "unknown profile 'huge'; choose one of: quick, default, full, scale"),
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


# The scale profile: agents x layouts (one local process, MQTT through 1 and 2 workers).


@pytest.fixture
def with_mosquitto(monkeypatch):
    """An MQTT layout checks that mosquitto is installed; the matrix tests run none."""
    monkeypatch.setattr("bench.suite.matrix.mosquitto_path", lambda: "/usr/sbin/mosquitto")


def test_scale_profile_is_agents_by_layouts(with_mosquitto):
    matrix = make_matrix("scale")
    assert matrix.modes == ("shared", "raw")
    assert matrix.agents == (2500, 10000, 22500)
    assert (matrix.duration, matrix.repeat) == (20.0, 3)
    assert matrix.layouts == (LOCAL, Layout("mqtt", 1), Layout("mqtt", 2))
    assert matrix.columns == (
        "shared", "raw", "shared@mqtt-1w", "raw@mqtt-1w", "shared@mqtt-2w", "raw@mqtt-2w",
        "raw@virtual",
    )  # fmt: skip
    assert [c.label for c in matrix.configs[:6]] == [
        "shared-2500", "raw-2500", "shared-2500-mqtt-1w", "raw-2500-mqtt-1w",
        "shared-2500-mqtt-2w", "raw-2500-mqtt-2w",
    ]  # fmt: skip
    assert [c.label for c in matrix.references] == [
        "raw-2500-virtual", "raw-10000-virtual", "raw-22500-virtual",
    ]  # fmt: skip
    assert matrix.runs == 3 * 2 * 3 * 3 + 3


def test_every_other_profile_keeps_one_local_process_and_no_reference():
    for name in ("quick", "default", "full"):
        matrix = make_matrix(name, agents=[16])
        assert matrix.layouts == (LOCAL,) and matrix.references == []
        assert matrix.columns == matrix.modes  # the columns, keys and labels of before
        assert [c.label for c in matrix.configs] == [f"{m}-16" for m in matrix.modes]


def test_scale_configurations_run_through_the_coordinator(with_mosquitto, tmp_path):
    matrix = make_matrix("scale", agents=[16])
    by_label = {c.label: c for c in matrix.configs + matrix.references}
    out = tmp_path / "out.json"
    one = by_label["shared-16-mqtt-1w"].argv(out)
    assert one[-6:] == ["--transport", "mqtt", "--broker", "auto", "--workers", "1"]
    assert by_label["raw-16-mqtt-2w"].argv(out)[-2:] == ["--workers", "2"]
    local = by_label["shared-16"].argv(out)
    assert "--transport" not in local and "--workers" not in local
    reference = by_label["raw-16-virtual"].argv(out)
    assert reference[reference.index("--clock") + 1] == "virtual"
    assert "--transport" not in reference


def test_scale_overrides_still_apply(with_mosquitto):
    matrix = make_matrix("scale", modes=["bare"], agents=[16, 36], duration=2.0, repeat=2)
    assert (matrix.modes, matrix.agents, matrix.duration, matrix.repeat) == (
        ("bare",), (16, 36), 2.0, 2,
    )  # fmt: skip
    assert [c.label for c in matrix.configs] == [
        "bare-16", "bare-16-mqtt-1w", "bare-16-mqtt-2w", "bare-36", "bare-36-mqtt-1w",
        "bare-36-mqtt-2w",
    ]  # fmt: skip
    assert all(c.duration == 2.0 for c in matrix.configs + matrix.references)
    assert [c.label for c in matrix.references] == ["raw-16-virtual", "raw-36-virtual"]


def test_scale_interleaves_modes_and_layouts_and_runs_each_reference_once(with_mosquitto):
    matrix = make_matrix("scale", agents=[16, 36], repeat=3)
    order = interleaved(matrix)
    assert len(order) == matrix.runs == 2 * 3 * 2 * 3 + 2
    references, rounds = order[:2], order[2:]
    assert [(c.label, r) for c, r in references] == [("raw-16-virtual", 0), ("raw-36-virtual", 0)]
    per_round = len(matrix.configs)
    for index in range(3):
        round_ = rounds[index * per_round : (index + 1) * per_round]
        assert {r for _, r in round_} == {index}
        assert sorted(c.label for c, _ in round_) == sorted(c.label for c in matrix.configs)
    firsts = [[c.label for c, r in rounds if r == n][:6] for n in range(3)]
    assert firsts == [  # each layout leads a round; the modes alternate as before
        ["shared-16", "raw-16", "shared-16-mqtt-1w", "raw-16-mqtt-1w", "shared-16-mqtt-2w",
         "raw-16-mqtt-2w"],
        ["raw-16-mqtt-1w", "shared-16-mqtt-1w", "raw-16-mqtt-2w", "shared-16-mqtt-2w",
         "raw-16", "shared-16"],
        ["shared-16-mqtt-2w", "raw-16-mqtt-2w", "shared-16", "raw-16", "shared-16-mqtt-1w",
         "raw-16-mqtt-1w"],
    ]  # fmt: skip
    assert len(order) == len({f"{c.label}-r{r}" for c, r in order})  # no run file twice


def test_scale_sizes_beyond_memory_are_refused_reference_included(with_mosquitto, monkeypatch):
    monkeypatch.setattr("bench.workload.capacity.available_memory", lambda: 2**30)
    with pytest.raises(BenchError, match=r"^--agents 1000000 in mode bare needs about"):
        make_matrix("scale", modes=["bare"], agents=[1_000_000])
    checked = []  # the reference's mode is checked too, even when --modes leaves it out
    monkeypatch.setattr("bench.suite.matrix.check_memory", lambda *args: checked.append(args))
    make_matrix("scale", modes=["shared"], agents=[9, 16])
    assert checked == [("shared", 9), ("raw", 9), ("shared", 16), ("raw", 16)]


def test_scale_without_mosquitto_is_refused_before_any_run(monkeypatch):
    def missing():
        raise BenchError("--broker auto needs mosquitto, which is not installed: install it")

    monkeypatch.setattr("bench.suite.matrix.mosquitto_path", missing)
    with pytest.raises(BenchError, match="needs mosquitto"):
        make_matrix("scale", agents=[16])
    make_matrix("quick", agents=[16])  # a local profile does not need it


def test_more_workers_than_rows_is_refused(with_mosquitto, monkeypatch):
    monkeypatch.setitem(PROFILES, "wide", Profile((9,), 1.0, 1, layouts=(Layout("mqtt", 4),)))
    with pytest.raises(BenchError) as raised:
        make_matrix("wide")
    assert str(raised.value) == (
        "--agents 9 has 3 rows, too few for the 4 workers of this profile (each carries whole rows)"
    )


def test_every_run_gets_the_suites_gc_mode(with_mosquitto):
    matrix = make_matrix("scale", agents=[16], repeat=1, gc="off-during-run")
    runs = [config for config, _ in interleaved(matrix)]
    assert {config.gc for config in [*runs, *matrix.configs]} == {"off-during-run"}
    assert any(config.clock == "virtual" for config in runs)  # the reference too
    assert make_matrix("quick").gc == "default"


def test_an_unknown_gc_mode_is_refused_naming_the_known_ones():
    with pytest.raises(BenchError) as raised:
        make_matrix("quick", gc="never")
    assert str(raised.value) == "--gc must be one of default, freeze, off-during-run, got 'never'"
