"""The headline metrics, defined once: where each lives in a result, its unit, which way is good.

Every consumer (the run summary, the suites, the gate, the report) reads metrics through
this table, so a metric's name and unit are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Metric:
    """One number of a result document, addressed as "<group>.<key>"."""

    path: str
    unit: str
    label: str
    better: str = "lower"
    deterministic: bool = False
    """True for counts that the virtual clock makes exactly repeatable (the gate's exact checks)."""

    def value(self, document: dict[str, Any]) -> Any:
        """The metric's value in a result document, or None when absent."""
        group, key = self.path.split(".", 1)
        return document.get("metrics", {}).get(group, {}).get(key)


HEADLINE: tuple[Metric, ...] = (
    Metric("loop_lag.p50_ms", "ms", "event-loop lag p50"),
    Metric("loop_lag.p99_ms", "ms", "event-loop lag p99"),
    Metric("loop_lag.max_ms", "ms", "event-loop lag max"),
    Metric("frame.flush_p99_ms", "ms", "frame flush p99"),
    Metric("frame.jitter_p99_ms", "ms", "render jitter p99"),
    Metric("frame.fps", "1/s", "frames per second", better="higher"),
    Metric("work.cpu_us_per_generation", "us", "CPU per generation"),
    Metric("work.flashes_per_s", "1/s", "flashes per second", better="higher"),
    Metric("work.inbox_misses_per_flash", "ratio", "inbox misses per flash"),
    Metric("convergence.order_parameter_final", "ratio", "order parameter R", better="higher"),
    Metric("memory.rss_per_agent_bytes", "bytes", "RSS per agent"),
    Metric("objects.objects_per_agent", "count", "objects per agent"),
    Metric("work.setup_s", "s", "setup time"),
    Metric("work.generations", "count", "generations", better="higher", deterministic=True),
    Metric("work.flashes", "count", "flashes", better="higher", deterministic=True),
    Metric("work.messages", "count", "inbox messages", better="higher", deterministic=True),
    Metric("work.inbox_misses", "count", "inbox misses", deterministic=True),
    Metric("work.agent_errors", "count", "agent errors", deterministic=True),
)
"""In the order summaries show them."""

SETUP_ALLOCATIONS = Metric(
    "memory.python_per_agent_bytes", "bytes", "allocations in setup per agent", deterministic=True
)
"""Python bytes allocated in setup and still alive after it (only with --tracemalloc)."""

BY_PATH: dict[str, Metric] = {metric.path: metric for metric in (*HEADLINE, SETUP_ALLOCATIONS)}
