from bench.report.summary import largest_size, mode_name, summary_sentences, times
from bench.suite.table import tables_from_values


def tables(values, modes=("per_agent", "shared", "raw"), agents=(400, 2500)):
    return tables_from_values(values, modes, agents)


FULL = {
    "memory.rss_per_agent_bytes": {
        ("per_agent", 2500): [8192.0],
        ("shared", 2500): [4096.0],
        ("raw", 2500): [4000.0],
    },
    "objects.objects_per_agent": {("per_agent", 2500): [28.0], ("shared", 2500): [5.0]},
    "loop_lag.p99_ms": {
        ("per_agent", 400): [80.0],
        ("per_agent", 2500): [500.0, 520.0, 480.0],
        ("shared", 400): [64.0],
        ("shared", 2500): [400.0],
        ("raw", 2500): [200.0],
    },
    "work.cpu_us_per_generation": {
        ("per_agent", 2500): [300.0],
        ("shared", 2500): [250.0],
        ("raw", 2500): [125.0],
    },
    "frame.fps": {("per_agent", 2500): [7.14], ("shared", 2500): [9.1], ("raw", 2500): [48.0]},
}


def test_sentences_from_the_tables_at_the_largest_size():
    assert summary_sentences(tables(FULL)) == [
        "At 2,500 agents the shared engine uses 2.00x less memory (RSS) per agent "
        "(4.0 KiB vs 8.0 KiB) and 5.60x fewer objects per agent (5 vs 28) than "
        "per-agent engines.",
        "Event-loop lag p99 at 2,500 agents is 400.00 ms with the shared engine vs "
        "500.00 ms with per-agent engines and 200.00 ms with raw asyncio.",
        "In CPU per generation at 2,500 agents, against the raw-asyncio floor of 125.00 µs: "
        "the shared engine 2.00x (250.00 µs), per-agent engines 2.40x (300.00 µs).",
        "At 2,500 agents the renderer manages 7.1 frames per second with per-agent engines, "
        "9.1 with the shared engine and 48.0 with raw asyncio.",
        "From 400 to 2,500 agents event-loop lag p99 grows with log-log slope 1.00 with "
        "per-agent engines, 1.00 with the shared engine (1 = in proportion to the agents).",
    ]


def test_missing_modes_leave_out_what_they_would_compare():
    only_shared = {
        path: {key: v for key, v in by_config.items() if key[0] == "shared"}
        for path, by_config in FULL.items()
    }
    sentences = summary_sentences(tables(only_shared, modes=("shared",)))
    assert sentences == [
        "Event-loop lag p99 at 2,500 agents is 400.00 ms with the shared engine.",
        "At 2,500 agents the renderer manages 9.1 frames per second with the shared engine.",
        "From 400 to 2,500 agents event-loop lag p99 grows with log-log slope 1.00 with the "
        "shared engine (1 = in proportion to the agents).",
    ]


def test_more_memory_reads_more_and_unknown_modes_are_named():
    values = {"memory.rss_per_agent_bytes": {("per_agent", 16): [1024.0], ("shared", 16): [2048.0]}}
    (sentence,) = summary_sentences(tables(values, agents=(16,)))
    assert sentence.startswith("At 16 agents the shared engine uses 2.00x more memory (RSS)")
    assert times(4.0, 8.0, "less", "more") == "2.00x less"
    assert mode_name("batched") == "mode batched"


def test_an_empty_suite_says_so():
    assert summary_sentences([]) == ["The suite holds no values to summarise."]
    assert largest_size([]) is None
