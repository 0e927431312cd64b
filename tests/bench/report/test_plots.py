"""The report's plots: tick labels that tell ticks apart, and text drawn as written."""

import io

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread

from bench.metrics import BY_PATH
from bench.report.plots import plain_labels, plain_log_ticks, png, scaling_plot
from bench.suite.table import tables_from_values


def tick_labels(axis):
    """The labels matplotlib drew on a y or x axis, in order, of the ticks in view."""
    axis.figure.canvas.draw()
    low, high = sorted(axis.get_view_interval())
    ticks = zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)
    return [label.get_text() for loc, label in ticks if low <= loc <= high]


def test_a_narrow_range_gets_distinct_labels_in_the_scaling_plot():
    # the frames-per-second panel of a suite where every mode keeps up: 59.8 to 60.2 fps
    fps = {("shared", 400): [59.8, 60.0], ("shared", 900): [60.1, 60.2], ("raw", 400): [60.0]}
    tables = tables_from_values({"frame.fps": fps}, ("shared", "raw"), (400, 900))
    figure = scaling_plot(tables)
    FigureCanvasAgg(figure)
    labels = tick_labels(figure.axes[0].yaxis)
    assert len(labels) >= 2 and all(labels)
    assert len(set(labels)) == len(labels), labels  # not "60, 60, 60"
    assert figure.axes[0].get_title() == BY_PATH["frame.fps"].label


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (59.8, 60.2),
        (59.99, 60.01),
        (0.5, 0.52),
        (199.0, 201.0),
        (1000.0, 1003.0),
        (3.0, 80.0),
        (0.01, 5000.0),
    ],
)
def test_log_axis_labels_are_distinct_plain_numbers(low, high):
    figure = Figure(figsize=(4.0, 3.0))
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.plot([1, 2], [low, high])
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    labels = tick_labels(ax.yaxis)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
    assert not any("e" in label or "$" in label for label in labels), labels


def test_plain_labels_add_only_the_decimals_needed():
    assert plain_labels([10.0, 20.0, 50.0, 20000.0]) == ["10", "20", "50", "20,000"]
    assert plain_labels([0.5, 1.0, 2.0]) == ["0.5", "1", "2"]
    assert plain_labels([59.8, 59.9, 60.0, 60.1]) == ["59.8", "59.9", "60.0", "60.1"]
    assert plain_labels([60.0, 60.05, 60.1]) == ["60.00", "60.05", "60.10"]


def test_png_draws_math_like_labels_as_written():
    figure = Figure(figsize=(3.0, 2.0))
    ax = figure.subplots()
    ax.plot([1, 2], [1, 2], label="$\\frac{$")
    ax.legend()
    ax.set_title("$x^2$ and $\\frac{$")
    ax.set_xticks([1, 2], ["$\\frac{$", "$y$"])
    image = imread(io.BytesIO(png(figure)), format="png")  # no ParseFatalException
    assert image.shape[:2] == (200, 300)
    assert ax.get_title() == "$x^2$ and $\\frac{$" and not ax.title.get_parse_math()
