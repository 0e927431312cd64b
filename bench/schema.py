"""The result document of one run (`python -m bench run --out FILE`): its version and shape.

The fields and their units are documented in README.md, "Result files"; keep the two in
step. History: 1 = first version (2026-11).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.errors import BenchError

SCHEMA_VERSION = 1


def build_document(
    *,
    meta: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    series: dict[str, Any],
    interrupted: bool,
    errors: dict[str, Any],
) -> dict[str, Any]:
    """Assemble a result document in the current schema."""
    return {
        "schema": SCHEMA_VERSION,
        "meta": meta,
        "config": config,
        "metrics": metrics,
        "series": series,
        "interrupted": interrupted,
        "errors": errors,
    }


def load_result(path: Path) -> dict[str, Any]:
    """Read a result document, refusing (with advice) one this version cannot read."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(f"cannot read result {path}: {error}") from None
    version = document.get("schema") if isinstance(document, dict) else None
    if version != SCHEMA_VERSION:
        advice = (
            "upgrade this checkout (git pull) to read it"
            if isinstance(version, int) and version > SCHEMA_VERSION
            else "re-run the measurement with this version"
        )
        raise BenchError(
            f"{path} has result schema {version!r}, this harness reads schema "
            f"{SCHEMA_VERSION}: {advice}"
        )
    return document
