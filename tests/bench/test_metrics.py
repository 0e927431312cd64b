"""The metric table: what the gate judges and asv tracks is declared on each metric."""

from bench.metrics import BY_PATH, METRICS, asv_tracked, gated


def test_the_gate_reads_its_metrics_from_the_table_in_its_own_order():
    assert [m.path for m in gated("timing")] == [
        "work.cpu_us_per_generation",
        "loop_lag.p99_ms",
        "frame.flush_p99_ms",
        "memory.rss_per_agent_bytes",
    ]
    assert [m.path for m in gated("count")] == [
        "work.generations",
        "work.messages",
        "work.inbox_misses",
        "work.agent_errors",
    ]
    assert [m.path for m in gated("per_agent")] == [
        "objects.objects_per_agent",
        "memory.python_per_agent_bytes",
    ]


def test_each_kind_numbers_its_metrics_one_to_n():
    for kind in ("timing", "count", "per_agent"):
        orders = [m.gate.order for m in gated(kind)]
        assert orders == list(range(1, len(orders) + 1)), kind


def test_only_the_tail_latencies_have_their_own_threshold():
    own = {m.path: m.gate.threshold for m in METRICS if m.gate and m.gate.threshold is not None}
    assert own == {"loop_lag.p99_ms": 0.25, "frame.flush_p99_ms": 0.25}
    assert all(BY_PATH[path].gate.kind == "timing" for path in own)


def test_asv_tracks_have_distinct_track_names():
    names = [m.asv for m in asv_tracked()]
    assert len(names) == len(set(names)) == 11
    assert all(name.startswith("track_") for name in names)
