"""`python -m bench merge`: the shards of one swarm, run on several hosts, as one result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.environment import collect_meta
from bench.errors import BenchError
from bench.result_file import check_writable, write_json_or_keep
from bench.schema import load_result
from bench.shard.merge import merge

_SAME = ("mode", "agents", "period", "nudge", "duration", "seed", "zones", "broker")
"""What every shard of one swarm must agree on."""


def merge_command(paths: list[Path], out: Path, argv: list[str] | None = None) -> int:
    """Check that the documents are every shard of one swarm, merge them, write; 0 or 1."""
    check_writable(out)
    documents = [load_result(path) for path in paths]
    count = check_shards(documents, paths)
    by_shard = {document["config"]["shard"][0]: document for document in documents}
    ordered = [by_shard[shard] for shard in range(count)]
    first = ordered[0]
    config = {**first["config"], "shard": None, "workers": count}
    meta = collect_meta(loop=first["meta"]["loop"], clock=first["meta"]["clock"], argv=argv)
    merged = merge(ordered, meta=meta, config=config)
    failure = write_json_or_keep(out, merged)
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    Console(stderr=True).print(f"{count} shards merged ({merged['status']}) into {out}")
    return 0


def check_shards(documents: list[dict[str, Any]], paths: list[Path]) -> int:
    """The shard count, once every document is one shard of the same swarm and none is missing."""
    if not documents:
        raise BenchError("give the result files of every shard of one swarm")
    shards = []
    for document, path in zip(documents, paths, strict=True):
        shard = document["config"].get("shard")
        if not shard:
            raise BenchError(f"{path} is not a shard's result: run it with --shard i/n")
        shards.append((shard[0], shard[1], path))
    counts = {count for _, count, _ in shards}
    if len(counts) != 1:
        raise BenchError(f"the files are shards of swarms of {sorted(counts)} shards, not of one")
    (count,) = counts
    for key in _SAME:
        values = {str(document["config"].get(key)) for document in documents}
        if len(values) > 1:
            raise BenchError(f"the shards differ in config.{key}: {', '.join(sorted(values))}")
    seen: dict[int, Path] = {}
    for index, _, path in shards:
        if index in seen:
            raise BenchError(f"shard {index}/{count} is given twice: {seen[index]} and {path}")
        seen[index] = path
    missing = sorted(set(range(count)) - set(seen))
    if missing:
        named = ", ".join(f"{index}/{count}" for index in missing)
        raise BenchError(f"shard {named} is missing: give every shard's result file")
    return int(count)
