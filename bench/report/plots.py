"""The report's plots: matplotlib figures on the Agg canvas, returned as PNG bytes.

Only drawing happens here; what to draw comes from the pure modules (scaling, lag,
timeline, compare, layouts). Each mode has one colour in every plot, the one it declares
(Mode.colour); a mode in another layout ("shared@mqtt-2w") keeps its mode's colour and is
told apart by its line style (or, in bars, a hatch).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import Formatter, LogLocator, MaxNLocator, NullFormatter

from bench.metrics import Metric
from bench.report.compare import Change
from bench.report.lag import Cdf
from bench.report.layouts import PerCoreLine
from bench.report.scaling import ScalingLine, describe_slope, scaling_lines
from bench.report.stalls import StallTimeline
from bench.report.timeline import Timeline
from bench.suite.layout import column_label, is_virtual, parse_tag, split_column
from bench.suite.table import MetricTable
from bench.workload import MODES

_OTHER_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
CAUSE_COLOURS = {
    "gc-gen0": "#bcbddc",  # the collector in purples, darker for an older generation
    "gc-gen1": "#807dba",
    "gc-gen2": "#4a1486",
    "start-up": "#bf812d",  # every agent's first step at once
    "code": "#252525",  # Python code the watchdog sampled
    "unknown": "#a6a6a6",  # no collection, no sample
}
"""Each stall cause's colour in every plot (the causes: bench.probes.stalls.CAUSES)."""
_UNKNOWN_CAUSE_COLOUR = "#e7298a"
_UNIT_TEXT = {"ms": "ms", "us": "µs", "s": "s", "bytes": "bytes", "1/s": "per second"}
_COLUMNS = 3
DPI = 100


def mode_colour(column: str) -> str:
    """The colour the column's mode declares; a mode not registered gets a stable one."""
    mode = split_column(column)[0]
    if mode in MODES:
        return MODES[mode].colour
    return _OTHER_COLOURS[sum(map(ord, mode)) % len(_OTHER_COLOURS)]


_DASHES: tuple[str | tuple[int, tuple[int, ...]], ...] = (
    (0, (6, 2)), "--", ":", (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (8, 2, 1, 2)),
)  # fmt: skip
_HATCHES = ("//", "..", "xx", "\\\\", "++", "oo")


def layout_style(column: str) -> str | tuple[int, tuple[int, ...]]:
    """The column's line style: solid for one local process (every plot before layouts),
    dashed by the number of workers for another layout, dash-dot for the virtual clock."""
    tag = split_column(column)[1]
    if not tag:
        return "-"
    if is_virtual(column):
        return "-."
    return _DASHES[(parse_tag(tag)[0].workers or 0) % len(_DASHES)]


def layout_hatch(column: str) -> str | None:
    """The column's hatch in bar plots: none for one local process."""
    tag = split_column(column)[1]
    if not tag:
        return None
    return _HATCHES[(parse_tag(tag)[0].workers or 0) % len(_HATCHES)]


def axis_label(metric: Metric) -> str:
    """ "event-loop lag p99 (ms)"; counts and ratios have no unit to show."""
    unit = _UNIT_TEXT.get(metric.unit)
    return f"{metric.label} ({unit})" if unit else metric.label


def png(figure: Figure) -> bytes:
    """Render a figure with Agg into PNG bytes, every text in it literal.

    Labels come from results (mode names in legends and titles): a `$` in them must not
    start matplotlib's math text, which fails on `$\\frac{$`. Texts made so far are switched
    off one by one, those made while drawing (tick labels) by the rcParam.
    """
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with rc_context({"text.parse_math": False}):
        for text in figure.findobj(Text):
            text.set_parse_math(False)
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def scaling_figure(tables: Sequence[MetricTable]) -> bytes | None:
    """Each metric against agents, log-log, a line per mode with its fitted slope."""
    figure = scaling_plot(tables)
    return png(figure) if figure else None


def scaling_plot(tables: Sequence[MetricTable]) -> Figure | None:
    """The figure of scaling_figure, not yet rendered (None without any line to draw)."""
    panels = [(t, lines) for t in tables if (lines := scaling_lines(t))]
    if not panels:
        return None
    rows = math.ceil(len(panels) / _COLUMNS)
    figure = Figure(figsize=(5.0 * _COLUMNS, 3.6 * rows + 0.6), layout="constrained")
    axes = list(figure.subplots(rows, _COLUMNS, squeeze=False).flat)
    for ax, (table, lines) in zip(axes, panels, strict=False):
        _scaling_panel(ax, table.metric, lines)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    figure.suptitle(
        "How each metric grows with the number of agents "
        "(log-log; median ± MAD of the repeats; slope 1 = in proportion)"
    )
    return figure


def _scaling_panel(ax: Axes, metric: Metric, lines: Sequence[ScalingLine]) -> None:
    sizes = sorted({a for line in lines for a in line.agents})
    for line in lines:
        below = [
            min(mad, median * 0.9) for median, mad in zip(line.medians, line.mads, strict=True)
        ]
        ax.errorbar(
            line.agents, line.medians, yerr=[below, list(line.mads)], marker="o", capsize=3,
            color=mode_colour(line.mode), linestyle=layout_style(line.mode),
            label=f"{column_label(line.mode)} (slope {describe_slope(line.slope)})",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [f"{a:,}" for a in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    plain_log_ticks(ax.yaxis)
    ax.set_title(metric.label)
    ax.set_xlabel("agents")
    ax.set_ylabel(axis_label(metric))
    ax.legend(fontsize="small")


def plain_number(value: float, decimals: int = 0) -> str:
    """A tick label without exponents: "20,000", "200", "0.5"; `decimals` more when close."""
    return f"{value:,.{decimals}f}" if abs(value) >= 10 else f"{value:.{6 + decimals}g}"


def plain_labels(values: Sequence[float]) -> list[str]:
    """plain_number of each value, with the fewest extra decimals that tell them all apart.

    A narrow range (frames per second between 59.8 and 60.2) gives ticks 0.1 apart, which
    "{:,.0f}" would all write as "60".
    """
    labels = [plain_number(value) for value in values]
    decimals = 0
    while len(set(labels)) < len(set(values)) and decimals < _MAX_DECIMALS:
        decimals += 1
        labels = [plain_number(value, decimals) for value in values]
    return labels


_MAX_DECIMALS = 9


class PlainFormatter(Formatter):
    """Tick labels as plain numbers (plain_labels): distinct, without exponents or math text."""

    def __init__(self) -> None:
        self._labels: dict[float, str] = {}

    def set_locs(self, locs: list[float]) -> None:
        """Label all ticks at once: how many decimals each needs depends on the others."""
        super().set_locs(locs)
        self._labels = dict(zip(locs, plain_labels(locs), strict=True))

    def __call__(self, x: float, pos: int | None = None) -> str:
        """The label of one tick."""
        return self._labels.get(x) or plain_number(x)


class NarrowLogLocator(LogLocator):
    """Log ticks at `subs` of each decade, or linear ones when fewer than two are in view.

    A narrow range (CPU per generation from 199 to 201 µs) holds one tick at 1, 2 or 5 of a
    decade, or none: an axis with one label, or none, says nothing of the scale.
    """

    def __init__(self, subs: Sequence[float]) -> None:
        super().__init__(base=10, subs=subs)
        self._grid = tuple(subs)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        """The log ticks, or linear ones in steps of 1, 2 or 5 (so their labels are exact)."""
        low, high = min(vmin, vmax), max(vmin, vmax)
        if low <= 0 or _on_grid(low, high, self._grid) >= 2:
            return super().tick_values(vmin, vmax)
        linear = MaxNLocator(nbins="auto", steps=[1, 2, 5, 10])
        linear.set_axis(self.axis)
        return linear.tick_values(vmin, vmax)


def _on_grid(low: float, high: float, subs: Sequence[float]) -> int:
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    return sum(1 for d in decades for sub in subs if low <= sub * 10.0**d <= high)


def plain_log_ticks(axis: Axis, subs: Sequence[float] = (1.0, 2.0, 5.0)) -> None:
    """Log ticks at `subs` (1, 2 and 5) of each decade, labelled as plain distinct numbers.

    With fewer than two such ticks in view (a narrow range) the ticks are linear, and
    PlainFormatter gives them the decimals that tell them apart.
    """
    axis.set_major_locator(NarrowLogLocator(subs))
    axis.set_major_formatter(PlainFormatter())
    axis.set_minor_formatter(NullFormatter())


def lag_cdf_figure(cdfs: Mapping[str, Cdf], agents: int) -> bytes:
    """The lag CDF of each mode at one size, log x in ms, with p50 and p99 in the legend."""
    figure = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = figure.subplots()
    _cdf_curves(ax, cdfs, p99_decimals=0)
    ax.set_xlabel("event-loop lag (ms, log scale)")
    ax.set_ylabel("fraction of wake-ups at or below (CDF)")
    runs = max(cdf.runs for cdf in cdfs.values())
    ax.set_title(f"Event-loop lag distribution at {agents:,} agents ({runs} runs per mode merged)")
    ax.legend(loc="upper left")
    return png(figure)


def delivery_cdf_figure(cdfs: Mapping[str, Cdf], agents: int) -> bytes:
    """The delivery-latency CDF of each (mode, layout) at one size, log x in ms."""
    figure = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = figure.subplots()
    _cdf_curves(ax, cdfs, p99_decimals=2)
    ax.set_xlabel("delivery latency, publish to the subscriber's callback (ms, log scale)")
    ax.set_ylabel("fraction of messages at or below (CDF)")
    runs = max(cdf.runs for cdf in cdfs.values())
    ax.set_title(
        f"Message delivery latency per transport at {agents:,} agents "
        f"(up to {runs} runs per configuration merged)"
    )
    ax.legend(loc="lower right", fontsize="small")
    return png(figure)


def _cdf_curves(ax: Axes, cdfs: Mapping[str, Cdf], p99_decimals: int) -> None:
    """One step curve per column (its colour and line style), p50 and p99 lines, log x."""
    for column, cdf in cdfs.items():
        points = [(v, f) for v, f in zip(cdf.values_ms, cdf.fractions, strict=True) if v > 0]
        label = (
            f"{column_label(column)} (p50 {cdf.value_at(0.5):,.1f} ms, "
            f"p99 {cdf.value_at(0.99):,.{p99_decimals}f} ms, {cdf.count:,} samples)"
        )
        ax.step(
            *zip(*points, strict=True), where="post", color=mode_colour(column),
            linestyle=layout_style(column), label=label,
        )  # fmt: skip
    for level in (0.5, 0.99):
        ax.axhline(level, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    plain_log_ticks(ax.xaxis, _log_subs([v for cdf in cdfs.values() for v in cdf.values_ms]))
    ax.set_ylim(0, 1.01)


def agents_per_core_figure(lines: Sequence[PerCoreLine]) -> bytes | None:
    """Agents per busy core against agents, a line per (mode, layout)."""
    if not lines:
        return None
    figure = Figure(figsize=(9.0, 5.0), layout="constrained")
    ax = figure.subplots()
    sizes = sorted({a for line in lines for a in line.agents})
    for line in lines:
        ax.plot(
            line.agents, line.agents_per_core, marker="o", color=mode_colour(line.column),
            linestyle=layout_style(line.column), label=column_label(line.column),
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{a:,}" for a in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(PlainFormatter())
    ax.set_xlabel("agents (log scale)")
    ax.set_ylabel("agents per busy core (agents / cores used)")
    ax.set_title("Agents per busy core against the number of agents (median of the repeats)")
    ax.legend(fontsize="small")
    return png(figure)


def _log_subs(values: Sequence[float]) -> tuple[float, ...]:
    # Decades alone over a wide range (1, 2, 5 of six decades crowd a 9-inch axis); 1, 2 and
    # 5 of each over two decades or less.
    positive = [value for value in values if value > 0]
    wide = bool(positive) and math.log10(max(positive) / min(positive)) > 2
    return (1.0,) if wide else (1.0, 2.0, 5.0)


def memory_figure(rss: MetricTable | None, objects: MetricTable | None) -> bytes | None:
    """RSS and gc-tracked objects per agent: bars per mode, grouped by agent count."""
    panels = [
        (t, scale, unit) for t, scale, unit in ((rss, 1024.0, "KiB"), (objects, 1.0, "")) if t
    ]
    if not panels:
        return None
    figure = Figure(figsize=(6.0 * len(panels), 4.5), layout="constrained")
    for ax, (table, scale, unit) in zip(
        figure.subplots(1, len(panels), squeeze=False).flat, panels, strict=True
    ):
        _bars(ax, table, scale)
        ax.set_ylabel(f"{table.metric.label} ({unit})" if unit else "gc-tracked objects per agent")
    figure.suptitle("Memory and objects per agent (median ± MAD of the repeats)")
    return png(figure)


def _bars(ax: Axes, table: MetricTable, scale: float) -> None:
    width = 0.8 / len(table.modes)
    for index, mode in enumerate(table.modes):
        cells = [(i, row.cells.get(mode)) for i, row in enumerate(table.rows)]
        present = [(i + (index - (len(table.modes) - 1) / 2) * width, c) for i, c in cells if c]
        if present:
            xs, found = zip(*present, strict=True)
            ax.bar(
                xs, [c.median / scale for c in found], width, yerr=[c.mad / scale for c in found],
                capsize=3, color=mode_colour(mode), hatch=layout_hatch(mode),
                label=column_label(mode),
            )  # fmt: skip
    ax.set_xticks(range(len(table.rows)), [f"{row.agents:,}" for row in table.rows])
    ax.set_xlabel("agents")
    ax.set_title(table.metric.label)
    ax.legend(fontsize="small")


def timeline_figure(found: Sequence[Timeline], agents: int) -> bytes:
    """Per-second lag p99, flashes per second and R of one run per mode, on one time axis."""
    figure = Figure(figsize=(10.0, 8.0), layout="constrained")
    lag_ax, flash_ax, r_ax = figure.subplots(3, 1, sharex=True)
    for run in found:
        colour, style = mode_colour(run.mode), layout_style(run.mode)
        if run.lag_edges_s:
            lag_ax.stairs(
                run.lag_p99_ms, run.lag_edges_s, color=colour, linestyle=style, baseline=None
            )
        if run.flash_edges_s:
            flash_ax.stairs(
                run.flashes_per_s, run.flash_edges_s, color=colour, linestyle=style, baseline=None
            )
        r_ax.plot(
            run.r_t_s, run.r, color=colour, linestyle=style, marker=".",
            label=column_label(run.mode),
        )  # fmt: skip
    lag_ax.set_yscale("log")
    plain_log_ticks(lag_ax.yaxis)
    lag_ax.set_ylabel("loop lag p99\nper second (ms)")
    flash_ax.set_ylabel("flashes per second")
    r_ax.set_ylabel("order parameter R\n(0 incoherent, 1 sync)")
    r_ax.set_ylim(0, 1.02)
    r_ax.set_xlabel("time since the probes started (s)")
    figure.legend(loc="outside lower center", ncols=len(found), fontsize="small")
    figure.suptitle(
        f"One run per mode at {agents:,} agents (the median run by lag p99): "
        "loop lag beside flashes and synchrony"
    )
    return png(figure)


def cause_colour(cause: str) -> str:
    """The cause's colour; a cause this report does not know yet gets one colour of its own."""
    return CAUSE_COLOURS.get(cause, _UNKNOWN_CAUSE_COLOUR)


def stall_timeline_figure(found: Sequence[StallTimeline], agents: int) -> bytes:
    """Per mode, its run's per-second lag p99 and, under it, a bar per stall on the same
    time axis (from when it started, as wide and as tall as it lasted), coloured by cause.
    The modes share their scales, so that their panels compare at a glance."""
    figure = Figure(figsize=(10.0, 1.2 + 2.6 * len(found)), layout="constrained")
    axes = figure.subplots(
        2 * len(found), 1, sharex=True, height_ratios=[3.0, 2.0] * len(found), squeeze=False
    )[:, 0]
    lag_axes, stall_axes = axes[0::2], axes[1::2]
    for lag_ax, stall_ax in zip(lag_axes[1:], stall_axes[1:], strict=True):
        lag_ax.sharey(lag_axes[0])
        stall_ax.sharey(stall_axes[0])
    for lag_ax, stall_ax, run in zip(lag_axes, stall_axes, found, strict=True):
        _lag_stairs(lag_ax, run)
        _stall_bars(stall_ax, run)
    if any(value > 0 for run in found for value in run.lag_p99_ms):
        lag_axes[0].set_yscale("log")
        plain_log_ticks(lag_axes[0].yaxis)
    longest = max((s.duration_ms for run in found for s in run.stalls), default=0.0)
    stall_axes[0].set_ylim(0, max(longest, 2 * found[0].threshold_ms) * 1.1)
    axes[-1].set_xlim(0, max(run.end_s for run in found))
    axes[-1].set_xlabel("time since the probes started (s)")
    _cause_legend(figure, {stall.cause for run in found for stall in run.stalls})
    figure.suptitle(
        f"Stalls of one run per mode at {agents:,} agents (the median run by lag p99)\n"
        "above: loop-lag p99 per second; below: each stall, as long and as tall as it lasted"
    )
    return png(figure)


def _lag_stairs(ax: Axes, run: StallTimeline) -> None:
    if run.lag_edges_s:
        ax.stairs(
            run.lag_p99_ms, run.lag_edges_s, color=mode_colour(run.mode),
            linestyle=layout_style(run.mode), baseline=None,
        )  # fmt: skip
    ax.set_ylabel("lag p99 per\nsecond (ms)")
    total = sum(stall.duration_ms for stall in run.stalls)
    title = (
        f"{column_label(run.mode)}, run of {run.started_at}: {_stalls(len(run.stalls))} over "
        f"{run.threshold_ms:g} ms, {total:,.0f} ms in all"
    )
    ax.set_title(title, loc="left", fontsize="medium")


def _stalls(count: int) -> str:
    return "1 stall" if count == 1 else f"{count:,} stalls"


def _stall_bars(ax: Axes, run: StallTimeline) -> None:
    # Narrow stalls stay visible: each bar has an edge of its own colour.
    colours = [cause_colour(stall.cause) for stall in run.stalls]
    ax.bar(
        [s.start_s for s in run.stalls], [s.duration_ms for s in run.stalls],
        width=[s.duration_ms / 1000 for s in run.stalls], align="edge", color=colours,
        edgecolor=colours, linewidth=0.8,
    )  # fmt: skip
    if not run.stalls:
        ax.text(
            0.5, 0.5, f"no stall over {run.threshold_ms:g} ms", transform=ax.transAxes,
            ha="center", va="center", color="grey",
        )  # fmt: skip
    ax.set_ylabel("stall (ms)")


def _cause_legend(figure: Figure, present: set[str]) -> None:
    """One patch per cause drawn, in the order of CAUSE_COLOURS."""
    causes = [c for c in CAUSE_COLOURS if c in present] + sorted(present - set(CAUSE_COLOURS))
    if causes:
        handles = [Patch(color=cause_colour(cause), label=cause) for cause in causes]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))


def comparison_figure(found: Sequence[Change], agents: int, title: str) -> bytes | None:
    """The change of each metric's median at one size, a bar per mode; pale = not significant."""
    at_size = [c for c in found if c.agents == agents and c.ratio is not None]
    labels = list(dict.fromkeys(c.metric.label for c in at_size))
    modes = list(dict.fromkeys(c.mode for c in at_size))
    if not at_size:
        return None
    figure = Figure(figsize=(9.0, 1.5 + 0.2 * len(labels) * len(modes)), layout="constrained")
    ax = figure.subplots()
    height = 0.8 / len(modes)
    for change in at_size:
        offset = (modes.index(change.mode) - (len(modes) - 1) / 2) * height
        solid = change.verdict in ("better", "worse")
        row = labels.index(change.metric.label) + offset
        ax.barh(
            row, ((change.ratio or 1.0) - 1) * 100, height, color=mode_colour(change.mode),
            alpha=1.0 if solid else 0.35, hatch=None if solid else "//",
        )  # fmt: skip
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("change of the median, new vs old (%)")
    pale = Patch(facecolor="white", edgecolor="grey", hatch="//", label="not significant/untested")
    handles = [*(Patch(color=mode_colour(m), label=m) for m in modes), pale]
    ax.legend(handles=handles, fontsize="small")
    ax.set_title(title)
    return png(figure)
