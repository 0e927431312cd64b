"""The headline metrics, defined once: where each lives in a result, its unit, which way is good.

Every consumer (the run summary, the suites, the gate, the report, the asv suite) reads
metrics through this table, so a metric's name and unit are the same everywhere, and a
metric says here whether the gate judges it and whether asv tracks it.

This module imports nothing of the project: the asv suite loads it from its file (see
bench/asv_suite/firefly.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

GateKind = Literal["timing", "count", "per_agent", "instructions"]


@dataclass(frozen=True, slots=True)
class Gate:
    """How the regression gate (bench/gate/checks.py) judges a metric."""

    kind: GateKind
    """The family of its checks: "timing" (real clock, head/base pair by pair, against a
    threshold), "count" (virtual clock, exactly), "per_agent" (virtual clock, within the
    gate's `tolerance`) or "instructions" (under valgrind, within `instruction_threshold`)."""
    order: int
    """Its place among the gate's metrics of its kind: gate.json lists the checks so, and
    CPU per generation leads the timing ones (the gate's first question)."""
    threshold: float | None = None
    """A timing metric's own regression threshold, when the gate's `threshold` (10%) is
    finer than its noise; [tool.bench.gate.thresholds] overrides it."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One number of a result document, addressed as "<group>.<key>"."""

    path: str
    unit: str
    label: str
    better: str = "lower"
    deterministic: bool = False
    """True for counts that the virtual clock makes exactly repeatable (the gate's exact checks)."""
    gate: Gate | None = None
    """How the regression gate judges it; None: the gate does not."""
    asv: str | None = None
    """The name of its asv benchmark (`track_...`, in bench/asv_suite/firefly.py); None: asv
    does not track it. The name is asv's key for the metric's history: never rename it."""

    def value(self, document: dict[str, Any]) -> Any:
        """The metric's value in a result document, or None when absent."""
        group, key = self.path.split(".", 1)
        return document.get("metrics", {}).get(group, {}).get(key)


TAIL = 0.25
"""The gate's threshold for tail latencies: in 3 s runs their 99% intervals in A/A gates span
±20-60%, and at 10% an unchanged engine once failed CI on a "significant" +16% lag p99."""

HEADLINE: tuple[Metric, ...] = (
    Metric("loop_lag.p50_ms", "ms", "event-loop lag p50", asv="track_loop_lag_p50"),
    Metric("loop_lag.p99_ms", "ms", "event-loop lag p99",
           gate=Gate("timing", 2, threshold=TAIL), asv="track_loop_lag_p99"),
    Metric("loop_lag.max_ms", "ms", "event-loop lag max", asv="track_loop_lag_max"),
    Metric("frame.flush_p99_ms", "ms", "frame flush p99",
           gate=Gate("timing", 3, threshold=TAIL), asv="track_frame_flush_p99"),
    Metric("frame.jitter_p99_ms", "ms", "render jitter p99", asv="track_render_jitter_p99"),
    Metric("frame.fps", "1/s", "frames per second", better="higher"),
    Metric("work.cpu_us_per_generation", "us", "CPU per generation",
           gate=Gate("timing", 1), asv="track_cpu_per_generation"),
    Metric("work.flashes_per_s", "1/s", "flashes per second", better="higher"),
    Metric("work.inbox_misses_per_flash", "ratio", "inbox misses per flash",
           asv="track_inbox_misses_per_flash"),
    Metric("convergence.order_parameter_final", "ratio", "order parameter R", better="higher"),
    Metric("memory.rss_per_agent_bytes", "bytes", "RSS per agent",
           gate=Gate("timing", 4), asv="track_rss_per_agent"),
    Metric("objects.objects_per_agent", "count", "objects per agent",
           gate=Gate("per_agent", 1), asv="track_objects_per_agent"),
    Metric("work.setup_s", "s", "setup time"),
    Metric("work.generations", "count", "generations", better="higher", deterministic=True,
           gate=Gate("count", 1)),
    Metric("work.flashes", "count", "flashes", better="higher", deterministic=True),
    Metric("work.messages", "count", "inbox messages", better="higher", deterministic=True,
           gate=Gate("count", 2)),
    Metric("work.inbox_misses", "count", "inbox misses", deterministic=True,
           gate=Gate("count", 3), asv="track_inbox_misses"),
    Metric("work.agent_errors", "count", "agent errors", deterministic=True,
           gate=Gate("count", 4)),
)  # fmt: skip
"""In the order summaries show them."""

SETUP_ALLOCATIONS = Metric(
    "memory.python_per_agent_bytes", "bytes", "allocations in setup per agent", deterministic=True,
    gate=Gate("per_agent", 2),
)  # fmt: skip
"""Python bytes allocated in setup and still alive after it (only with --tracemalloc)."""

INSTRUCTIONS = Metric(
    "instructions.per_generation", "count", "instructions per generation", deterministic=True,
    gate=Gate("instructions", 1), asv="track_instructions_per_generation",
)  # fmt: skip
"""Instructions executed per generation of the steady state, counted under valgrind on the
virtual clock (bench/cost; only with `bench run --instructions` and in the suites)."""

METRICS: tuple[Metric, ...] = (*HEADLINE, SETUP_ALLOCATIONS, INSTRUCTIONS)
"""Every metric of the table."""

BY_PATH: dict[str, Metric] = {metric.path: metric for metric in METRICS}


def gated(kind: GateKind) -> tuple[Metric, ...]:
    """The metrics the gate judges as `kind`, in the gate's order."""
    found = [metric for metric in METRICS if metric.gate and metric.gate.kind == kind]
    return tuple(sorted(found, key=lambda metric: metric.gate.order if metric.gate else 0))


def asv_tracked() -> tuple[Metric, ...]:
    """The metrics the asv suite tracks, in the table's order."""
    return tuple(metric for metric in METRICS if metric.asv)
