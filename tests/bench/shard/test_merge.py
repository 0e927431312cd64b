"""Merging worker documents: swarm totals, the slowest worker's lag, each worker kept."""

import pytest

from bench.probes.delivery import summarise
from bench.probes.latency import new_histogram
from bench.schema import SCHEMA_VERSION
from bench.shard.merge import merge


def histogram_of(*values_us):
    histogram = new_histogram()
    for value in values_us:
        histogram.record_value(value)
    return histogram.encode().decode("ascii")


def worker(shard, *, agents, steps, flashes, cpu_s, lag_p99, delivery, published, received,
           degraded=False, interrupted=False, broker=None):  # fmt: skip
    metrics = {
        "work": {
            "agents": agents,
            "generations": steps,
            "steps": steps,
            "flashes": flashes,
            "messages": flashes * 8,
            "messages_delivered": received,
            "inbox_misses": 3,
            "signals": 5,
            "agent_errors": 0,
            "setup_s": 1.0 + shard,
            "setup_cpu_s": 0.5,
            "run_s": 10.0 + shard / 10,
        },
        "cpu": {"cpu_user_s": cpu_s, "cpu_system_s": 0.0, "cpu_s": cpu_s, "wall_s": 10.0},
        "memory": {"rss_end_bytes": 1000, "rss_per_agent_bytes": 1000.0 * (shard + 1)},
        "objects": {"objects_end": 10},
        "engine": {"engines": 1, "generations": steps},
        "loop_lag": {"p99_ms": lag_p99, "max_ms": lag_p99 * 2},
        "transport": {
            "kind": "mqtt",
            "degraded": degraded,
            "published": published,
            "lost": 0,
            "received": received,
            "delivered": received,
            "unrouted": 3,
            "callback_errors": 0,
            "reconnects": 0,
            "disconnects": 0,
        },
    }
    series = {"delivery_histogram": histogram_of(*delivery), "loop_lag_per_second": {"s": shard}}
    if shard == 0:
        metrics["convergence"] = {"order_parameter_final": 0.9}
        metrics["broker"] = broker or {"messages_in_per_s": 100.0, "sys_messages": 4}
        series["convergence"] = {"t_s": [1.0], "r": [0.9]}
    return {
        "schema": SCHEMA_VERSION,
        "meta": {},
        "config": {"mode": "shared", "agents": 200, "shard": [shard, 2]},
        "metrics": metrics,
        "series": series,
        "interrupted": interrupted,
        "status": "complete",
        "errors": {"agents": [], "probes": {"frame": "boom"} if shard else {}},
    }


A = worker(0, agents=300, steps=1000, flashes=40, cpu_s=2.0, lag_p99=4.0,
           delivery=(1000, 2000), published=400, received=404)  # fmt: skip
B = worker(1, agents=100, steps=3000, flashes=60, cpu_s=4.0, lag_p99=9.0,
           delivery=(3000, 50_000), published=600, received=590)  # fmt: skip


def merged(documents, **kwargs):
    return merge(documents, meta={"command": "x"}, config={"workers": 2}, **kwargs)


def test_the_swarm_totals_add_the_workers_up():
    document = merged([A, B])
    work = document["metrics"]["work"]

    assert (work["agents"], work["steps"], work["flashes"]) == (400, 4000, 100)
    assert work["flashes_per_s"] == pytest.approx(100 / 10.1)  # over the longest run
    assert work["cpu_us_per_generation"] == pytest.approx(6.0e6 / 4000)
    assert work["setup_s"] == 2.0  # the swarm is set up when its slowest worker is
    assert document["metrics"]["cpu"]["cpu_utilisation"] == pytest.approx(0.6)
    assert document["metrics"]["memory"] == {
        "rss_end_bytes": 2000,
        "rss_per_agent_bytes": (300 * 1000.0 + 100 * 2000.0) / 400,  # weighted by agents
    }


def test_the_loop_lag_is_the_slowest_workers():
    lag = merged([A, B])["metrics"]["loop_lag"]
    assert lag == {"p99_ms": 9.0, "max_ms": 18.0, "worker": 1}


def test_delivery_latency_merges_the_histograms_not_the_percentiles():
    delivery = merged([A, B])["metrics"]["delivery"]
    everything = new_histogram()
    for value in (1000, 2000, 3000, 50_000):
        everything.record_value(value)

    assert delivery == summarise(everything)
    assert delivery["count"] == 4
    assert delivery["max_ms"] == pytest.approx(50.0, rel=1e-3)


def test_shard_0_watches_the_swarm_and_the_broker():
    document = merged([A, B], broker={"cpu_s": 1.5})

    assert document["metrics"]["convergence"] == {"order_parameter_final": 0.9}
    assert document["series"]["convergence"] == {"t_s": [1.0], "r": [0.9]}
    assert document["metrics"]["broker"] == {
        "messages_in_per_s": 100.0,
        "sys_messages": 4,
        "cpu_s": 1.5,
    }


def test_undelivered_is_what_was_published_and_not_received_minus_the_brokers_own():
    transport = merged([A, B])["metrics"]["transport"]
    # 1,000 published; 994 received, 4 of which were $SYS messages, not agents'
    assert transport["undelivered"] == 1000 - (994 - 4)
    assert transport["degraded"] is False


def test_each_worker_is_kept_with_its_own_metrics_and_errors_are_named_by_worker():
    document = merged([A, B])

    assert [w["shard"] for w in document["workers"]] == [0, 1]
    assert document["workers"][1]["metrics"]["loop_lag"]["p99_ms"] == 9.0
    assert "convergence" not in document["workers"][0]["metrics"]
    assert document["errors"]["probes"] == {"worker1.frame": "boom"}
    assert document["schema"] == SCHEMA_VERSION
    assert document["status"] == "complete"


DEGRADED = worker(1, agents=1, steps=1, flashes=1, cpu_s=1, lag_p99=1, delivery=(1,),
                  published=1, received=1, degraded=True)  # fmt: skip


@pytest.mark.parametrize(
    ("documents", "kwargs", "status"),
    [
        ([A, DEGRADED], {}, "degraded"),
        ([A, None], {}, "interrupted"),
        ([A, B], {"interrupted": True}, "interrupted"),
        ([A, None], {"failures": [{"shard": 1, "reason": "killed", "stderr": ""}]}, "failed"),
    ],
    ids=["degraded", "a-worker-left-nothing", "interrupted", "failed"],
)
def test_the_status_says_what_went_wrong(documents, kwargs, status):
    document = merged(documents, **kwargs)
    assert document["status"] == status
    if "failures" in kwargs:
        assert document["errors"]["workers"] == kwargs["failures"]


def test_a_swarm_without_shard_0_has_no_convergence_but_still_merges():
    document = merged([None, B])
    assert "convergence" not in document["metrics"]
    assert document["metrics"]["work"]["agents"] == 100
    assert document["metrics"]["memory"]["rss_per_agent_bytes"] == 2000.0
