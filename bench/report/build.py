"""The report's content, assembled from one suite (or two): text, tables and plots, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyperf

from bench.metrics import HEADLINE, INSTRUCTIONS, Metric
from bench.report import plots
from bench.report.compare import (
    COMPARED_COUNTING,
    SIGNIFICANCE_SOURCE,
    Change,
    Significance,
    changes,
    comparison_sentences,
    mismatches,
    significance,
)
from bench.report.data import SuiteData, run_dates
from bench.report.lag import mode_cdfs
from bench.report.layouts import (
    ScaleTable,
    has_layouts,
    per_core_lines,
    scale_sentences,
    scale_table,
)
from bench.report.stalls import (
    StallComparison,
    StallTable,
    compare_stalls,
    stall_table,
    stall_timelines,
)
from bench.report.summary import summary_sentences
from bench.report.timeline import timelines
from bench.suite.layout import is_plain, is_virtual
from bench.suite.pyperf_suite import benchmark_name
from bench.suite.table import MetricTable


@dataclass(frozen=True, slots=True)
class Plot:
    """One PNG of the report, with the file stem it gets beside report.md."""

    name: str
    caption: str
    png: bytes


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two suites side by side."""

    old_label: str
    new_label: str
    changes: list[Change]
    sentences: list[str]
    warnings: list[str]
    plot: Plot | None
    significance_source: str = SIGNIFICANCE_SOURCE
    stalls: StallComparison | None = None
    """Stalled time by cause per mode in both suites (None unless both have stalls)."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the HTML and Markdown renderers show; strings are raw (renderers escape)."""

    title: str
    facts: list[tuple[str, str]]
    summary: list[str]
    plots: list[Plot]
    tables: list[MetricTable]
    metadata: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    scale: ScaleTable | None = None
    """The scaling table, for a suite with MQTT or worker-process layouts (else None)."""
    stalls: StallTable | None = None
    """Stalled time by cause and by function at the largest size (None without stalls)."""


def build_report(suites: Sequence[SuiteData]) -> Report:
    """The report of the last suite; with two, also how it changed since the first."""
    new = suites[-1]
    old = suites[0] if len(suites) > 1 else None
    tables = new.tables
    scale = scale_table(new.documents, new.columns)
    found, notes = suite_plots(new, tables, scale)
    return Report(
        title=_title(old, new),
        facts=facts(new) + ([("compared with", str(old.path))] if old else []),
        summary=summary_sentences(plain_tables(tables)) + (scale_sentences(scale) if scale else []),
        plots=found,
        tables=tables,
        metadata=metadata_rows(new),
        notes=[*(old.notes if old else []), *new.notes, *notes, *zero_note(new)],
        comparison=compare(old, new) if old else None,
        scale=scale,
        stalls=_stall_table(new),
    )


def _stall_table(suite: SuiteData) -> StallTable | None:
    if not suite.documents:
        return None
    agents = max(doc["config"]["agents"] for doc in suite.documents)
    return stall_table(suite.documents, suite.columns, agents)


def plain_tables(tables: list[MetricTable]) -> list[MetricTable]:
    """The tables cut to the local, single-process, real-clock columns (the modes), which
    the summary's sentences compare; as they are when there is no such column."""
    cut = [
        MetricTable(t.metric, plain, t.rows)
        for t in tables
        if (plain := tuple(c for c in t.modes if is_plain(c)))
    ]
    return cut or tables


PLOT_ORDER = (
    "scaling", "lag_cdf", "memory", "timeline", "stalls", "agents_per_core", "delivery_cdf",
)  # fmt: skip
"""The suite's plots in reading order (the comparison's comes with the comparison)."""


def suite_plots(
    suite: SuiteData, tables: list[MetricTable], scale: ScaleTable | None = None
) -> tuple[list[Plot], list[str]]:
    """The suite's plots, and a note for each one that cannot be drawn."""
    drawn = {**_table_plots(tables), **_series_plots(suite), **_layout_plots(suite, scale)}
    found = [drawn[name] for name in PLOT_ORDER if name in drawn]
    return found, _missing(suite, set(drawn)) + _missing_layouts(suite, scale, set(drawn))


def _layout_plots(suite: SuiteData, scale: ScaleTable | None) -> dict[str, Plot]:
    if scale is None:
        return {}
    drawn = {}
    per_core = plots.agents_per_core_figure(per_core_lines(scale))
    if per_core:
        drawn["agents_per_core"] = Plot("agents_per_core", _AGENTS_PER_CORE, per_core)
    measured = [c for c in suite.columns if not is_virtual(c)]
    with_delivery = [
        doc["config"]["agents"] for doc in suite.documents if doc["series"].get(_DELIVERY)
    ]
    if with_delivery:
        agents = max(with_delivery)
        cdfs = mode_cdfs(suite.documents, measured, agents, series=_DELIVERY)
        if cdfs:
            caption = _DELIVERY_CDF.format(agents=agents)
            png = plots.delivery_cdf_figure(cdfs, agents)
            drawn["delivery_cdf"] = Plot("delivery_cdf", caption, png)
    return drawn


def _missing_layouts(suite: SuiteData, scale: ScaleTable | None, drawn: set[str]) -> list[str]:
    if scale is None:
        if suite.layouts and not has_layouts(suite.documents):
            return [
                "The scaling table and its plots (agents per core, delivery latency) need the "
                "raw run documents of the MQTT and worker-process runs, which were not found."
            ]
        return []
    if "delivery_cdf" not in drawn:
        return [
            f"No {_DELIVERY} in the raw runs: the delivery-latency plot is skipped (a run "
            "records it with --delivery, the default for MQTT)."
        ]
    return []


def _table_plots(tables: list[MetricTable]) -> dict[str, Plot]:
    by_path = {t.metric.path: t for t in tables}
    drawn = {}
    # The headline metrics only: the instruction counts are made at one size.
    scaling = plots.scaling_figure([t for t in tables if t.metric in HEADLINE])
    if scaling:
        drawn["scaling"] = Plot("scaling", _SCALING, scaling)
    memory = plots.memory_figure(
        by_path.get("memory.rss_per_agent_bytes"), by_path.get("objects.objects_per_agent")
    )
    if memory:
        drawn["memory"] = Plot("memory", _MEMORY, memory)
    return drawn


def _series_plots(suite: SuiteData) -> dict[str, Plot]:
    if not suite.documents:
        return {}
    agents = max(doc["config"]["agents"] for doc in suite.documents)
    drawn = {}
    cdfs = mode_cdfs(suite.documents, suite.columns, agents)
    if cdfs:
        caption = _LAG_CDF.format(agents=agents, runs=max(c.runs for c in cdfs.values()))
        drawn["lag_cdf"] = Plot("lag_cdf", caption, plots.lag_cdf_figure(cdfs, agents))
    runs = timelines(suite.documents, suite.columns, agents)
    if runs:
        picked = ", ".join(f"{run.mode} {run.started_at}" for run in runs)
        caption = _TIMELINE.format(agents=agents, picked=picked)
        drawn["timeline"] = Plot("timeline", caption, plots.timeline_figure(runs, agents))
    with_stalls = stall_timelines(suite.documents, suite.columns, agents)
    if with_stalls:
        picked = ", ".join(f"{run.mode} {run.started_at}" for run in with_stalls)
        caption = _STALLS.format(agents=agents, picked=picked)
        drawn["stalls"] = Plot("stalls", caption, plots.stall_timeline_figure(with_stalls, agents))
    return drawn


def _missing(suite: SuiteData, drawn: set[str]) -> list[str]:
    if not suite.documents:
        return [
            "The lag distribution and the timeline need the raw run documents, which were "
            "not found: those plots are skipped."
        ]
    return [
        f"No {what} in the raw runs: the {name} plot is skipped (a virtual-clock suite has none)."
        for name, what in (("lag_cdf", "loop_lag_histogram"), ("timeline", "per-second series"))
        if name not in drawn
    ]


def zero_note(suite: SuiteData) -> list[str]:
    """Name the metrics that were 0 in every run: pyperf keeps values > 0 only, so no table."""
    zero = [
        metric.label
        for metric in HEADLINE
        if metric.path not in suite.values
        and any(metric.value(doc) is not None for doc in suite.documents)
        and all(not metric.value(doc) for doc in suite.documents)
    ]
    if not zero:
        return []
    return [f"0 in every run, so not in the pyperf suite (it keeps values > 0): {', '.join(zero)}."]


def compare(old: SuiteData, new: SuiteData) -> Comparison:
    """Each benchmark of both suites: change of the median and Welch's significance."""

    def test(metric: Metric, mode: str, agents: int) -> Significance:
        name = benchmark_name(metric, mode, agents)
        return significance(_benchmark(old.suite, name), _benchmark(new.suite, name))

    found = changes(old.values, new.values, test)
    labels = _distinct_labels(old, new)
    plot = None
    if found:
        agents = max(c.agents for c in found)
        title = f"Change of each median at {agents:,} agents\n{labels[0]} → {labels[1]}"
        png = plots.comparison_figure(found, agents, title)
        caption = _COMPARISON.format(agents=agents, old=labels[0], new=labels[1])
        plot = Plot("comparison", caption, png) if png else None
    warnings = mismatches(setup_facts(old), setup_facts(new))
    stalls = compare_stalls(old.documents, new.documents, new.columns)
    warnings += list(stalls.warnings) if stalls else []
    return Comparison(
        labels[0], labels[1], found, comparison_sentences(found), warnings, plot, stalls=stalls
    )


def _title(old: SuiteData | None, new: SuiteData) -> str:
    if old is None:
        return f"Benchmark report: {suite_label(new)}"
    before, after = _distinct_labels(old, new)
    return f"Benchmark report: {after} compared with {before}"


def suite_label(suite: SuiteData) -> str:
    """The suite's short commit, or its file name when the suite has no common commit."""
    commit = suite.metadata.get("commit")
    return str(commit)[:7] if commit else suite.path.name


def setup_facts(suite: SuiteData) -> dict[str, Any]:
    """The suite's metadata and its first run's machine description, for comparing set-ups.

    A suite from before `--gc` ran the collector as it is: "default".
    """
    first = suite.documents[0]["meta"] if suite.documents else {}
    counting = {key: suite.counted[key] for key in COMPARED_COUNTING if key in suite.counted}
    return {"gc": "default", **first, **suite.metadata, **counting}


def facts(suite: SuiteData) -> list[tuple[str, str]]:
    """The suite's key facts, shown under the title."""
    meta = suite.metadata
    rows = [
        ("suite", str(suite.path)),
        ("commit", str(meta.get("commit", "several or unknown"))),
        ("profile", f"{meta.get('suite_profile', '?')}, {meta.get('suite_repeat', '?')} repeats"),
        ("modes", ", ".join(suite.modes)),
        *([("layouts", ", ".join(suite.layouts))] if suite.layouts else []),
        ("agents", ", ".join(f"{a:,}" for a in suite.timed_agents)),
        ("started", min(run_dates(suite.suite), default="unknown")),
        ("suite took", _seconds(meta.get("suite_elapsed_s"))),
        ("loop, clock", f"{meta.get('loop', '?')}, {meta.get('clock', '?')}"),
        ("garbage collector", str(meta.get("gc", "default (not recorded)"))),
    ]
    return rows + _counting_facts(suite) + _run_facts(suite)


def _counting_facts(suite: SuiteData) -> list[tuple[str, str]]:
    # How the instruction counts were made, when the suite has them (metadata as the file
    # holds it: numbers shown in seconds, anything else as is).
    counted = suite.counted
    sizes = sorted({agents for _, agents in suite.values.get(INSTRUCTIONS.path, {})})
    if not sizes:
        return []
    warmup = _seconds(counted.get("instructions_warmup_s"))
    duration = _seconds(counted.get("instructions_duration_s"))
    how = (
        f"per generation under {counted.get('valgrind', 'valgrind')}: "
        f"{', '.join(f'{a:,}' for a in sizes)} agents, {warmup} of warm-up then {duration} "
        f"counted, on the virtual clock; took {_seconds(counted.get('instructions_elapsed_s'))}"
    )
    return [("instructions", how)]


def _seconds(value: Any) -> str:
    # Metadata is whatever the file holds: a number is shown in seconds, anything else as is.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g} s"
    return "unknown" if value is None else str(value)


def _run_facts(suite: SuiteData) -> list[tuple[str, str]]:
    if not suite.documents:
        return [("raw runs", "not found")]
    meta, config = suite.documents[0]["meta"], suite.documents[0]["config"]
    return [
        ("raw runs", f"{len(suite.documents)} documents in {suite.runs_dir}"),
        (
            "machine",
            f"{meta.get('cpu_model')}, {meta.get('cores')} cores, "
            f"{meta.get('implementation', 'Python')} {meta.get('python')}, {meta.get('platform')}",
        ),
        (
            "workload",
            f"period {config.get('period')} s, nudge {config.get('nudge')} s, "
            f"{config.get('duration')} s per run, seed {config.get('seed')}",
        ),
    ]


def metadata_rows(suite: SuiteData) -> list[tuple[str, str]]:
    """Every metadata key the suite's benchmarks share, and the first run's command line."""
    rows = [(key, str(value)) for key, value in sorted(suite.metadata.items())]
    if suite.documents:
        rows.append(("command (first run)", str(suite.documents[0]["meta"].get("command"))))
    return rows


def _benchmark(suite: pyperf.BenchmarkSuite, name: str) -> pyperf.Benchmark | None:
    try:
        return suite.get_benchmark(name)
    except KeyError:
        return None


def _distinct_labels(old: SuiteData, new: SuiteData) -> tuple[str, str]:
    labels = suite_label(old), suite_label(new)
    return labels if labels[0] != labels[1] else (old.path.name, new.path.name)


_DELIVERY = "delivery_histogram"
_AGENTS_PER_CORE = (
    "Agents per busy core against the number of agents, a line per mode and layout (colour: "
    "the mode; line style: the layout, solid = one local process): agents / the cores the "
    "workload's processes used (CPU seconds per second, all workers summed; the broker's "
    "CPU apart), the median of the repeats. Higher = cheaper per agent."
)
_DELIVERY_CDF = (
    "Message delivery latency at {agents:,} agents, publish to the subscriber's callback: each "
    "configuration's HDR histograms (µs) of its repeats merged into one CDF, a curve per mode "
    "and layout (colour: the mode; line style: the layout). Dotted lines: p50 and p99."
)
_SCALING = (
    "Each headline metric against the number of agents, log-log: the median of the repeats "
    "with MAD error bars, and per mode the least-squares slope of log(value) on log(agents) "
    "(numpy.polyfit): 1 = grows in proportion to the agents, 0 = flat. Metrics that are zero "
    "or absent are left out."
)
_MEMORY = (
    "RSS per agent ((after setup - baseline) / agents) and gc-tracked objects per agent, "
    "by mode and agent count: median ± MAD of the repeats."
)
_LAG_CDF = (
    "Event-loop lag at {agents:,} agents: each mode's HDR histograms (µs resolution, "
    "coordinated-omission corrected) of its {runs} runs merged into one CDF. Dotted lines: "
    "p50 and p99 (of all samples merged, so not the median of the runs' p99 in the tables)."
)
_TIMELINE = (
    "One run per mode at {agents:,} agents, the one with the median lag p99 of its repeats "
    "({picked}): per-second loop-lag p99, flashes per second and the order parameter R, in "
    "seconds since the probes started."
)
_STALLS = (
    "The stalls of one run per mode at {agents:,} agents, the one with the median lag p99 of "
    "its repeats that has stalls ({picked}): above, its per-second loop-lag p99; below, a "
    "bar per stall on the same time axis, from when the loop's heartbeat was due, as wide "
    "and as tall as the stall lasted, coloured by its cause (docs/stalls.md)."
)
_COMPARISON = (
    "Change of each metric's median at {agents:,} agents from {old} (old) to {new} (new), a "
    "bar per mode; pale hatched bars are not significant (Welch's t-test, 95 %) or could not "
    "be tested."
)
