"""Plain-text rendering of metric values and of a run's headline metrics (pure functions)."""

from __future__ import annotations

from typing import Any

from bench.metrics import HEADLINE, Metric
from bench.probes.stalls import by_function

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB")


def format_value(value: Any, unit: str) -> str:
    """A metric value with its unit, in the precision a reader needs ("-" for None)."""
    if value is None:
        return "-"
    scale, suffix = _scale(float(value), unit)
    return f"{_number(value / scale, unit, scale)}{suffix}"


def format_spread(center: float, spread: float, unit: str) -> str:
    """ "12.30 ± 1.20 ms": both numbers in one unit, chosen by the center."""
    scale, suffix = _scale(center, unit)
    return (
        f"{_number(center / scale, unit, scale)} ± {_number(spread / scale, unit, scale)}{suffix}"
    )


def summary_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) for each headline metric present in the document."""
    return [
        (metric.label, format_value(metric.value(document), metric.unit))
        for metric in HEADLINE
        if _present(metric, document)
    ]


def stall_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The stall probe's answer in two rows: how much the loop stalled and by what cause,
    and the cause and function that stalled it longest ([] without the probe)."""
    stalls = document.get("metrics", {}).get("stalls")
    if not stalls:
        return []
    label = f"stalls > {stalls['threshold_ms']:g} ms"
    if not stalls["count"]:
        return [(label, "none")]
    shares = sorted(
        ((share, cause) for cause, share in stalls["share_by_cause"].items() if share),
        reverse=True,
    )
    causes = ", ".join(f"{cause} {share:.0%}" for share, cause in shares)
    rows = [(label, f"{stalls['count']}, {stalls['total_ms']:,.0f} ms: {causes}")]
    worst = by_function(document.get("series", {}).get("stalls", []))
    if worst:
        name, ms = next(iter(worst.items()))
        rows.append(("stalled longest by", f"{name} ({ms:,.0f} ms)"))
    return rows


def _scale(value: float, unit: str) -> tuple[float, str]:
    if unit == "bytes":
        scale = 1.0
        for name in _BYTE_UNITS:
            if abs(value) < 1024 * scale or name == _BYTE_UNITS[-1]:
                return scale, f" {name}"
            scale *= 1024
    suffixes = {"ms": " ms", "us": " µs", "s": " s", "1/s": " 1/s"}
    return 1.0, suffixes.get(unit, "")


def _number(value: float, unit: str, scale: float) -> str:
    if unit == "bytes":
        return f"{value:,.0f}" if scale == 1.0 else f"{value:,.1f}"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "ratio":
        return f"{value:.3f}"
    if unit in ("ms", "us"):
        return f"{value:,.2f}"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value:,.1f}"


def _present(metric: Metric, document: dict[str, Any]) -> bool:
    group = metric.path.split(".", 1)[0]
    return group in document.get("metrics", {})
