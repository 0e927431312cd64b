"""The result document of one run (`python -m bench run --out FILE`): its version and shape.

Every field, its unit and meaning, and the version history are in docs/result-format.md;
keep the two in step. History: 1 = first version (2026-11); 2 = `status`, the transport
and sharding blocks (`metrics.transport`, `.delivery`, `.broker`, `workers`), 2026-12;
3 = the stall probe (`metrics.stalls`, `series.stalls`, `series.loop_utilisation`) and
`config.gc`, 2026-12. Versions 1 and 2 are still read: each only adds to the one before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.errors import BenchError

SCHEMA_VERSION = 3
READABLE = (1, 2, 3)
"""The versions `load_result` accepts."""
STATUSES = ("complete", "degraded", "interrupted", "failed")
"""How a run ended (`status`): degraded = the broker connection was lost or a publish was;
failed = a worker process failed (sharded runs)."""


def build_document(
    *,
    meta: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    series: dict[str, Any],
    interrupted: bool,
    errors: dict[str, Any],
    status: str | None = None,
    workers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Assemble a result document in the current schema; `workers` only for sharded runs.

    Without a `status`, it is "interrupted" or "complete" from `interrupted`.
    """
    if status is None:
        status = "interrupted" if interrupted else "complete"
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    document = {
        "schema": SCHEMA_VERSION,
        "meta": meta,
        "config": config,
        "metrics": metrics,
        "series": series,
        "interrupted": interrupted,
        "status": status,
        "errors": errors,
    }
    if workers is not None:
        document["workers"] = workers
    return document


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
"""What every reader of a document (any readable version) relies on: (key, JSON type, words)."""

_RERUN = "re-run the measurement with this version"


def status_of(document: dict[str, Any]) -> str:
    """How a run ended (`status`); a schema-1 document has none: from `interrupted`."""
    status = document.get("status")
    if isinstance(status, str):
        return status
    return "interrupted" if document.get("interrupted") else "complete"


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
    if type(version) is not int or version not in READABLE:  # true and 1.0 == 1 too
        advice = (
            "upgrade this checkout (git pull) to read it"
            if isinstance(version, int) and version > SCHEMA_VERSION
            else _RERUN
        )
        raise BenchError(
            f"{path} has result schema {version!r}, this harness reads schema "
            f"{', '.join(map(str, READABLE[:-1]))} or {READABLE[-1]}: {advice}"
        )
    problem = _shape_problem(document)
    if problem:
        raise BenchError(f"{path} {problem}: {_RERUN}")
    return document


def _shape_problem(document: dict[str, Any]) -> str | None:
    """What a document lacks of REQUIRED, in words ("lacks ..."); None if nothing."""
    version = document["schema"]
    for key, kind, words in REQUIRED:
        parent, _, name = key.rpartition(".")
        holder = document[parent] if parent else document
        if name not in holder:
            return f'lacks "{key}", which result schema {version} requires'
        if type(holder[name]) is not kind:
            found = json_kind(holder[name])
            return f'has "{key}" as {found}, result schema {version} requires {words}'
    return None


def json_kind(value: Any) -> str:
    """A JSON value's kind in words, for messages: "an object", "a list", "null", ..."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    return kinds.get(type(value), "null" if value is None else "a number")
