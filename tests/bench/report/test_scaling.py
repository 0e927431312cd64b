import math

import pytest

from bench.metrics import BY_PATH
from bench.report.scaling import describe_slope, fit_slope, scaling_lines
from bench.suite.table import tables_from_values


def test_slope_of_a_power_law_is_its_exponent():
    assert fit_slope([100, 400, 900], [3.0 * a**2 for a in (100, 400, 900)]) == pytest.approx(2.0)
    assert fit_slope([16, 36], [5.0, 5.0]) == pytest.approx(0.0)


def test_no_slope_without_two_positive_points():
    assert fit_slope([16], [1.0]) is None
    assert fit_slope([16, 36], [0.0, 2.0]) is None
    assert fit_slope([16, 16], [1.0, 2.0]) is None


def test_lines_per_mode_skip_zero_medians():
    values = {
        "loop_lag.p99_ms": {
            ("shared", 16): [1.0, 1.2],
            ("shared", 36): [2.0, 2.4],
            ("raw", 16): [0.0],
            ("raw", 36): [0.0],
        }
    }
    (table,) = tables_from_values(
        values, ("shared", "raw"), (16, 36), (BY_PATH["loop_lag.p99_ms"],)
    )
    (line,) = scaling_lines(table)
    assert line.mode == "shared" and line.agents == (16, 36)
    assert line.medians == pytest.approx((1.1, 2.2)) and line.mads == pytest.approx((0.1, 0.2))
    assert line.slope == pytest.approx(math.log(2) / math.log(36 / 16))


def test_slope_text():
    assert describe_slope(1.0234) == "1.02"
    assert describe_slope(None) == "n/a"
