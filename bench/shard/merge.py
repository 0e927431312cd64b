"""Worker documents into one swarm document: totals, the slowest worker, each worker's own.

Pure: documents in, a document out. The merged document keeps the schema of a run: every
reader of `metrics.work`, `metrics.loop_lag` and the rest finds them, now describing the
swarm (see docs/result-format.md, "Sharded runs"); `workers` lists what each process saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.probes.delivery import merge_encoded, summarise
from bench.schema import build_document

_SUMMED_WORK = (
    "agents",
    "generations",
    "steps",
    "flashes",
    "messages",
    "messages_delivered",
    "inbox_misses",
    "signals",
    "agent_errors",
    "setup_cpu_s",
)
_SUMMED_TRANSPORT = (
    "published",
    "lost",
    "received",
    "delivered",
    "unrouted",
    "callback_errors",
    "reconnects",
    "disconnects",
)
_WORKER_BLOCKS = ("work", "cpu", "memory", "objects", "loop_lag", "transport", "delivery")
"""What `workers[i].metrics` keeps of each worker's own document."""


def merge(
    documents: Sequence[dict[str, Any] | None],
    *,
    meta: dict[str, Any],
    config: dict[str, Any],
    broker: dict[str, Any] | None = None,
    failures: list[dict[str, Any]] | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """One result document from each shard's (None where a worker left none).

    `broker`: what the coordinator measured of a broker it started (its CPU), added to
    shard 0's `$SYS` rates. `failures`: workers that failed, each {shard, reason, stderr}.
    """
    present = [d for d in documents if d is not None]
    delivery = merge_encoded(
        [d["series"]["delivery_histogram"] for d in present if "delivery_histogram" in d["series"]]
    )
    watcher = documents[0] if documents else None  # shard 0 watches the whole swarm
    metrics: dict[str, Any] = {
        "work": _work(present),
        "transport": _transport(present),
        "cpu": _cpu(present),
        "memory": _summed(present, "memory"),
        "objects": _summed(present, "objects"),
        "engine": _summed(present, "engine"),
        "delivery": summarise(delivery),
        "broker": {**_metrics(watcher).get("broker", {}), **(broker or {})},
    }
    slowest = _slowest(present)
    series: dict[str, Any] = {"delivery_histogram": delivery.encode().decode("ascii")}
    if watcher is not None:
        for key in ("convergence", "frame"):
            if key in _metrics(watcher):
                metrics[key] = _metrics(watcher)[key]
        if "convergence" in watcher.get("series", {}):
            series["convergence"] = watcher["series"]["convergence"]
    if slowest is not None:
        metrics["loop_lag"] = {**_metrics(slowest)["loop_lag"], "worker": _shard(slowest)}
        series["loop_lag_per_second"] = slowest["series"].get("loop_lag_per_second", {})
    errors = {
        "agents": [e for d in present for e in d.get("errors", {}).get("agents", [])],
        "probes": {
            f"worker{_shard(d)}.{name}": error
            for d in present
            for name, error in d.get("errors", {}).get("probes", {}).items()
        },
        "workers": failures or [],
    }
    missing = len(documents) - len(present)
    status = _status(present, failures or [], interrupted or missing > 0, metrics["transport"])
    return build_document(
        meta=meta,
        config=config,
        metrics=metrics,
        series=series,
        interrupted=interrupted or any(d["interrupted"] for d in present),
        errors=errors,
        status=status,
        workers=[_worker(d) for d in present],
    )


def _metrics(document: dict[str, Any] | None) -> dict[str, Any]:
    return {} if document is None else document.get("metrics", {})


def _shard(document: dict[str, Any]) -> int:
    shard = document["config"].get("shard") or [0, 1]
    return int(shard[0])


def _sum(documents: list[dict[str, Any]], block: str, key: str) -> Any:
    values = [_metrics(d).get(block, {}).get(key) for d in documents]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(numbers) if numbers else None


def _max(documents: list[dict[str, Any]], block: str, key: str) -> Any:
    values = [_metrics(d).get(block, {}).get(key) for d in documents]
    numbers = [v for v in values if isinstance(v, int | float)]
    return max(numbers) if numbers else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def _work(documents: list[dict[str, Any]]) -> dict[str, Any]:
    work = {key: _sum(documents, "work", key) for key in _SUMMED_WORK}
    run_s = _max(documents, "work", "run_s")
    cpu_s = _sum(documents, "cpu", "cpu_s")
    return {
        **work,
        "flashes_per_s": _ratio(work["flashes"], run_s),
        "inbox_misses_per_flash": _ratio(work["inbox_misses"], work["flashes"]),
        "cpu_us_per_generation": _ratio(None if cpu_s is None else cpu_s * 1e6, work["steps"]),
        "setup_s": _max(documents, "work", "setup_s"),
        "run_s": run_s,
    }


def _transport(documents: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {key: _sum(documents, "transport", key) or 0 for key in _SUMMED_TRANSPORT}
    # Every message a worker publishes has exactly one subscribing connection (its zone's
    # worker, or shard 0 for flashes and nothing else): what was sent and not received
    # was lost on the way, or was still on its way when its receiver stopped.
    sys_messages = (
        _metrics(documents[0]).get("broker", {}).get("sys_messages", 0) if documents else 0
    )
    undelivered = totals["published"] - (totals["received"] - (sys_messages or 0))
    degraded = any(_metrics(d).get("transport", {}).get("degraded") for d in documents)
    return {"kind": "mqtt", **totals, "undelivered": undelivered, "degraded": degraded}


def _cpu(documents: list[dict[str, Any]]) -> dict[str, Any]:
    cpu = {key: _sum(documents, "cpu", key) for key in ("cpu_user_s", "cpu_system_s", "cpu_s")}
    wall = _max(documents, "cpu", "wall_s")
    return {**cpu, "wall_s": wall, "cpu_utilisation": _ratio(cpu["cpu_s"], wall)}


def _summed(documents: list[dict[str, Any]], block: str) -> dict[str, Any]:
    """Each key summed over the workers; a per-agent figure weighted by their agents."""
    keys = {key for d in documents for key in _metrics(d).get(block, {})}
    return {
        key: _per_agent(documents, block, key)
        if "per_agent" in key
        else _sum(documents, block, key)
        for key in sorted(keys)
    }


def _per_agent(documents: list[dict[str, Any]], block: str, key: str) -> float | None:
    pairs = [
        (_metrics(d).get(block, {}).get(key), _metrics(d)["work"]["agents"]) for d in documents
    ]
    known = [(value, agents) for value, agents in pairs if value is not None and agents]
    total = sum(agents for _, agents in known)
    return sum(value * agents for value, agents in known) / total if total else None


def _slowest(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    with_lag = [d for d in documents if _metrics(d).get("loop_lag", {}).get("p99_ms") is not None]
    return max(with_lag, key=lambda d: _metrics(d)["loop_lag"]["p99_ms"], default=None)


def _status(
    documents: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    interrupted: bool,
    transport: dict[str, Any],
) -> str:
    if failures:
        return "failed"
    if interrupted or any(d["interrupted"] for d in documents):
        return "interrupted"
    return "degraded" if transport["degraded"] else "complete"


def _worker(document: dict[str, Any]) -> dict[str, Any]:
    metrics = _metrics(document)
    return {
        "shard": _shard(document),
        "interrupted": document["interrupted"],
        "metrics": {block: metrics[block] for block in _WORKER_BLOCKS if block in metrics},
        "errors": document.get("errors", {}),
    }
