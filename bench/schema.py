"""The result document of one run (`python -m bench run --out FILE`): its version and shape.

Every field, its unit and meaning, and the version history are in docs/result-format.md;
keep the two in step. History: 1 = first version (2026-11).
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


REQUIRED: tuple[tuple[str, type, str], ...] = (
    ("meta", dict, "an object"),
    ("config", dict, "an object"),
    ("metrics", dict, "an object"),
    ("series", dict, "an object"),
    ("interrupted", bool, "true or false"),
    ("errors", dict, "an object"),
    ("config.mode", str, "a string"),
    ("config.agents", int, "a whole number"),
    ("meta.started_at", str, "a string"),
)
"""What every reader of a schema-1 document relies on: (dotted key, JSON type, in words)."""

_RERUN = "re-run the measurement with this version"


def load_result(path: Path) -> dict[str, Any]:
    """Read a result document, refusing (with advice) one this version cannot read.

    A document of the right schema that lacks a key every reader relies on is refused here
    too, so that no reader meets a KeyError: the suite, the report and the profiler all
    skip or refuse it the same way.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(f"cannot read result {path}: {error}") from None
    version = document.get("schema") if isinstance(document, dict) else None
    if type(version) is not int or version != SCHEMA_VERSION:  # true and 1.0 == 1 too
        advice = (
            "upgrade this checkout (git pull) to read it"
            if isinstance(version, int) and version > SCHEMA_VERSION
            else _RERUN
        )
        raise BenchError(
            f"{path} has result schema {version!r}, this harness reads schema "
            f"{SCHEMA_VERSION}: {advice}"
        )
    problem = _shape_problem(document)
    if problem:
        raise BenchError(f"{path} {problem}: {_RERUN}")
    return document


def _shape_problem(document: dict[str, Any]) -> str | None:
    """What a schema-1 document lacks of REQUIRED, in words ("lacks ..."); None if nothing."""
    for key, kind, words in REQUIRED:
        parent, _, name = key.rpartition(".")
        holder = document[parent] if parent else document
        if name not in holder:
            return f'lacks "{key}", which result schema {SCHEMA_VERSION} requires'
        if type(holder[name]) is not kind:
            found = json_kind(holder[name])
            return f'has "{key}" as {found}, result schema {SCHEMA_VERSION} requires {words}'
    return None


def json_kind(value: Any) -> str:
    """A JSON value's kind in words, for messages: "an object", "a list", "null", ..."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    return kinds.get(type(value), "null" if value is None else "a number")
