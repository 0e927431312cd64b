import pytest

from bench.workload.topology import (
    inbox_topic,
    moore_neighbours,
    zone_agents,
    zone_filter,
    zone_of,
)
from cascade.connectors.topics import topic_matches


def test_interior_cell_has_its_eight_surrounding_cells():
    # 5x5 grid, cell 12 is (2, 2)
    assert moore_neighbours(12, 5) == (6, 7, 8, 11, 13, 16, 17, 18)


def test_corner_wraps_around_the_torus():
    assert moore_neighbours(0, 4) == (15, 12, 13, 3, 1, 7, 4, 5)


def test_neighbourhood_is_symmetric_and_never_contains_itself():
    side = 6
    for cell in range(side * side):
        neighbours = moore_neighbours(cell, side)
        assert len(set(neighbours)) == 8 and cell not in neighbours
        assert all(cell in moore_neighbours(n, side) for n in neighbours)


def test_inbox_topic_names_the_zone():
    assert inbox_topic(42) == "firefly/0/42/inbox"
    assert inbox_topic(42, 3) == "firefly/3/42/inbox"


@pytest.mark.parametrize(("side", "zones"), [(3, 1), (3, 2), (3, 3), (10, 3), (100, 2), (7, 4)])
def test_zones_cut_the_grid_into_contiguous_stripes_of_whole_rows(side, zones):
    stripes = [zone_agents(zone, side, zones) for zone in range(zones)]
    assert [agent for stripe in stripes for agent in stripe] == list(range(side * side))
    assert all(len(stripe) % side == 0 and len(stripe) > 0 for stripe in stripes)
    sizes = [len(stripe) // side for stripe in stripes]
    assert max(sizes) - min(sizes) <= 1  # as even as the side allows
    for zone, stripe in enumerate(stripes):
        assert {zone_of(agent, side, zones) for agent in stripe} == {zone}


def test_one_filter_covers_a_zone_and_no_other():
    assert topic_matches(zone_filter(1), inbox_topic(57, 1))
    assert not topic_matches(zone_filter(1), inbox_topic(57, 0))
