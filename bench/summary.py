"""Plain-text rendering of a run's headline metrics (pure: data in, strings out)."""

from __future__ import annotations

from typing import Any

from bench.metrics import HEADLINE, Metric


def format_value(value: Any, unit: str) -> str:
    """A metric value with its unit, in the precision a reader needs."""
    if value is None:
        return "-"
    if unit == "bytes":
        return _bytes(float(value))
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "ratio":
        return f"{value:.3f}"
    if unit in ("ms", "us"):
        return f"{value:,.2f} {'µs' if unit == 'us' else unit}"
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:,.1f} {unit}"


def summary_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) for each headline metric present in the document."""
    return [
        (metric.label, format_value(metric.value(document), metric.unit))
        for metric in HEADLINE
        if _present(metric, document)
    ]


def _present(metric: Metric, document: dict[str, Any]) -> bool:
    group = metric.path.split(".", 1)[0]
    return group in document.get("metrics", {})


def _bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
