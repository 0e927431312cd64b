import subprocess
import sys

import pyperf
import pytest

from bench.suite.pyperf_suite import build_suite, dump_atomic, parse_benchmark_name, suite_values


def test_suite_round_trips_through_pyperf_with_units_and_metadata(tmp_path, document):
    docs = [document("shared", 16, lag_p99=v) for v in (10.0, 12.0, 14.0)]
    docs.append(document("raw", 16, lag_p99=5.0))
    path = tmp_path / "latest.json"
    dump_atomic(build_suite(docs, {"suite_profile": "quick"}), path)

    suite = pyperf.BenchmarkSuite.load(str(path))
    lag = suite.get_benchmark("loop_lag.p99_ms/shared/16")
    assert lag.get_unit() == "second"
    assert sorted(lag.get_values()) == [0.010, 0.012, 0.014]
    metadata = lag.get_metadata()
    assert metadata["mode"] == "shared" and metadata["agents"] == 16
    assert metadata["commit"] == "abc123" and metadata["clock"] == "real"
    assert metadata["suite_profile"] == "quick"
    assert suite.get_benchmark("memory.rss_per_agent_bytes/raw/16").get_unit() == "byte"
    assert suite.get_benchmark("work.flashes/raw/16").get_unit() == "integer"
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_zero_values_are_left_out_and_counted(document):
    docs = [document("raw", 16, inbox_misses=0), document("raw", 16, inbox_misses=4)]
    suite = build_suite(docs, {})
    misses = suite.get_benchmark("work.inbox_misses/raw/16")
    assert misses.get_values() == (4.0,)
    assert misses.get_metadata()["zero_values"] == 1
    assert "work.agent_errors/raw/16" not in suite.get_benchmark_names()  # all zero


def test_pyperf_command_line_reads_it(tmp_path, document):
    path = tmp_path / "suite.json"
    dump_atomic(build_suite([document("shared", 16, lag_p99=v) for v in (1.0, 2.0)], {}), path)
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(path), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "not significant" in done.stdout


def test_no_documents_no_suite():
    assert build_suite([], {}) is None


def test_suite_values_reads_back_our_units_with_the_zeros(tmp_path, document):
    docs = [document("raw", 16, lag_p99=v, inbox_misses=m) for v, m in ((10.0, 0), (12.0, 4))]
    path = tmp_path / "latest.json"
    dump_atomic(build_suite(docs, {}), path)
    values = suite_values(pyperf.BenchmarkSuite.load(str(path)))
    assert sorted(values["loop_lag.p99_ms"][("raw", 16)]) == pytest.approx([10.0, 12.0])
    assert sorted(values["work.inbox_misses"][("raw", 16)]) == [0.0, 4.0]
    assert values["memory.rss_per_agent_bytes"][("raw", 16)] == [4096.0, 4096.0]


def test_benchmark_names_parse_back():
    assert parse_benchmark_name("loop_lag.p99_ms/per_agent/2500") == (
        "loop_lag.p99_ms",
        "per_agent",
        2500,
    )
    assert parse_benchmark_name("bm_something") is None
    assert parse_benchmark_name("a/b/c") is None
