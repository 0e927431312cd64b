from bench.workload.topology import inbox_topic, moore_neighbours


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


def test_inbox_topic():
    assert inbox_topic(42) == "firefly/42/inbox"
