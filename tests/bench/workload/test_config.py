import pytest

from bench.errors import BenchError
from bench.workload import make_config


def test_defaults_are_the_original_case():
    config = make_config()
    assert (config.agents, config.side, config.period, config.nudge) == (2500, 50, 5.0, 0.2)
    assert config.refractory == pytest.approx(1.0)


def test_grid_side_gives_the_square():
    assert make_config(grid_side=7).agents == 49


def test_as_dict_records_every_constant():
    data = make_config(agents=9, seed=4).as_dict()
    assert data["seed"] == 4 and data["side"] == 3 and data["jitter"] == 0.1
    assert data["refractory"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"agents": 2501},
            "--agents must be a square number (agents sit on a square grid), got 2501: "
            "the nearest are 2500 (50x50) and 2601 (51x51); or give --grid-side",
        ),
        ({"agents": 4}, "--agents must be at least 9 (a 3x3 grid), got 4"),
        ({"grid_side": 2}, "--grid-side must be at least 3, got 2"),
        (
            {"agents": 100, "grid_side": 9},
            "--agents 100 does not match --grid-side 9 (9x9 = 81); give only one of them",
        ),
        ({"period": 0.0}, "--period must be > 0 seconds, got 0.0"),
        ({"period": -1.0}, "--period must be > 0 seconds, got -1.0"),
        ({"duration": 0.0}, "--duration must be > 0 seconds, got 0.0"),
        ({"nudge": -0.1}, "--nudge must be in [0, period) = [0, 5.0) seconds, got -0.1"),
        ({"nudge": 5.0}, "--nudge must be in [0, period) = [0, 5.0) seconds, got 5.0"),
    ],
)
def test_bad_input_is_named_with_the_fix(kwargs, message):
    with pytest.raises(BenchError) as raised:
        make_config(**kwargs)
    assert str(raised.value) == message


def test_a_command_without_grid_side_is_not_told_to_give_it():
    with pytest.raises(BenchError) as raised:
        make_config(agents=2501, offer_grid_side=False)
    assert str(raised.value) == (
        "--agents must be a square number (agents sit on a square grid), got 2501: "
        "the nearest are 2500 (50x50) and 2601 (51x51)"
    )
