"""The memory check: runs that would not fit are refused up front, with the most that fits."""

import pytest

import bench.workload.capacity
from bench.errors import BenchError
from bench.workload import MODES, check_memory, memory_needed
from bench.workload.capacity import BASE_BYTES

GIB = 2**30


def test_need_is_a_base_plus_the_modes_share_per_agent():
    assert memory_needed("shared", 0) == BASE_BYTES
    assert memory_needed("shared", 1000) == BASE_BYTES + 1000 * MODES["shared"].bytes_per_agent
    assert memory_needed("per_agent", 1000) > memory_needed("raw", 1000)


def test_a_run_that_fits_passes():
    check_memory("per_agent", 2500, available=GIB)
    check_memory("shared", 100, available=memory_needed("shared", 100))  # exactly enough


def test_a_run_one_agent_too_big_is_refused_with_the_largest_square_that_fits():
    available = memory_needed("raw", 10_000)  # 100x100 fits exactly

    with pytest.raises(BenchError) as raised:
        check_memory("raw", 10_201, available=available)

    assert str(raised.value) == (
        "--agents 10201 in mode raw needs about 206 MiB (11 KiB per agent, measured) "
        "but 203 MiB is available; use at most 10,000 (100x100)"
    )


@pytest.mark.parametrize(
    ("agents", "available", "message"),
    [
        pytest.param(
            10**8,
            21 * GIB,
            "--agents 100000000 in mode shared needs about 1.2 TiB (13 KiB per agent, measured) "
            "but 21 GiB is available; use at most 1,684,804 (1298x1298)",
            id="the-issue's-example",
        ),
        pytest.param(
            10**400,
            21 * GIB,
            f"--agents {10**400} in mode shared needs more than 1,024 EiB (13 KiB per agent, "
            "measured) but 21 GiB is available; use at most 1,684,804 (1298x1298)",
            id="beyond-any-float",
        ),
        pytest.param(
            10_000,
            BASE_BYTES,
            "--agents 10000 in mode shared needs about 223 MiB (13 KiB per agent, measured) "
            "but 96 MiB is available; free some memory first",
            id="not-even-3x3",
        ),
    ],
)
def test_refusals_say_what_is_needed_and_what_fits(agents, available, message):
    with pytest.raises(BenchError) as raised:
        check_memory("shared", agents, available=available)

    assert str(raised.value) == message


def test_available_memory_is_read_now_by_default(monkeypatch):
    monkeypatch.setattr(bench.workload.capacity, "available_memory", lambda: 5 * GIB)

    with pytest.raises(BenchError) as raised:
        check_memory("per_agent", 10**6)

    assert str(raised.value) == (
        "--agents 1000000 in mode per_agent needs about 16 GiB (17 KiB per agent, measured) "
        "but 5.0 GiB is available; use at most 302,500 (550x550)"
    )


def test_the_real_available_memory_is_a_positive_count():
    assert isinstance(bench.workload.capacity.available_memory(), int)
    assert bench.workload.capacity.available_memory() > 0
