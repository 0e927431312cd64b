"""A soak's verdict: over the second half of a long run, do RSS and live objects stay flat?

Pure: it reads one run document (`bench run --objects-interval`) and decides. The first
half is left out so that warm-up (the swarm synchronising, caches filling, the allocator's
arenas settling) does not pass for a leak; what still grows in the second half does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.markdown import md_escape
from bench.stats import leak_slope


@dataclass(frozen=True, slots=True)
class SoakLimits:
    """How much growth in the second half a soak forgives."""

    rss_slope_bytes_per_s: float = 1024.0
    objects_growth: float = 0.01
    """Growth of the gc-tracked object count over the second half, a fraction of its mean."""


@dataclass(frozen=True, slots=True)
class SoakVerdict:
    """What the soak measured in its second half, and whether that is flat enough."""

    passed: bool
    rss_slope_bytes_per_s: float | None
    objects_growth: float | None
    objects_mean: float | None
    second_half_s: float | None
    limits: SoakLimits
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for soak.json."""
        return asdict(self)


def judge(document: dict[str, Any], limits: SoakLimits | None = None) -> SoakVerdict:
    """Judge a run document: RSS slope and object growth over its second half."""
    limits = limits or SoakLimits()
    rss_slope = document["metrics"]["memory"].get("leak_slope_bytes_per_s")
    counts = document["series"].get("objects", {"t_s": [], "count": []})
    growth, mean, span = objects_growth(counts["t_s"], counts["count"])
    failures = []
    if rss_slope is None or growth is None:
        failures.append("too short to judge: the second half needs three samples of each")
    if rss_slope is not None and rss_slope > limits.rss_slope_bytes_per_s:
        failures.append(
            f"RSS grew {rss_slope:,.0f} B/s over the second half "
            f"(limit {limits.rss_slope_bytes_per_s:,.0f} B/s)"
        )
    if growth is not None and growth > limits.objects_growth:
        failures.append(
            f"gc-tracked objects grew {growth:+.2%} over the second half "
            f"(limit {limits.objects_growth:+.2%})"
        )
    return SoakVerdict(not failures, rss_slope, growth, mean, span, limits, failures)


def objects_growth(
    t: list[float], counts: list[int]
) -> tuple[float | None, float | None, float | None]:
    """(growth as a fraction of the mean, mean, seconds) of the counts' second half.

    The growth is the least-squares trend times the half's length: the count swings by
    several percent with the agents' phases, and a trend over many periods averages that
    out where the first and last samples would not.
    """
    slope = leak_slope(t, counts)
    half = len(t) // 2
    if slope is None:
        return None, None, None
    mean = float(np.mean(counts[half:]))
    span = t[-1] - t[half]
    return slope * span / mean, mean, span


def as_markdown(verdict: SoakVerdict, document: dict[str, Any], source: str) -> str:
    """A short report of the soak: configuration, the two measures against their limits."""
    config, meta = document["config"], document["meta"]
    status = "PASS" if verdict.passed else "FAIL"
    state = "interrupted" if document["interrupted"] else "complete"
    lines = [
        f"# Soak: {status}",
        "",
        f"{md_escape(str(config['mode']))}, {config['agents']:,} agents, "
        f"{config['duration']:g} s ({state}); commit {md_escape(str(meta.get('commit')))}, "
        f"{md_escape(str(meta.get('cpu_model')))}, Python {md_escape(str(meta.get('python')))}; "
        f"run document {md_escape(source)}.",
        "",
        "| over the second half | measured | limit |",
        "| --- | ---: | ---: |",
        f"| RSS slope | {_number(verdict.rss_slope_bytes_per_s, ',.0f', ' B/s')} "
        f"| {verdict.limits.rss_slope_bytes_per_s:,.0f} B/s |",
        f"| gc-tracked objects, growth | {_number(verdict.objects_growth, '+.2%')} "
        f"| {verdict.limits.objects_growth:+.2%} |",
        f"| gc-tracked objects, mean | {_number(verdict.objects_mean, ',.0f')} | |",
        "",
    ]
    lines += [f"- {failure}" for failure in verdict.failures]
    return "\n".join(lines).rstrip() + "\n"


def _number(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"
