import json
import subprocess
import sys

import pyperf
import pytest

from bench.errors import BenchError
from bench.metrics import BY_PATH
from bench.suite.pyperf_suite import (
    benchmark_name,
    build_suite,
    counted_metadata,
    dump_atomic,
    is_counted,
    load_suite_file,
    parse_benchmark_name,
    suite_values,
    timed_metadata,
)


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


def test_each_run_records_its_gc_mode_when_it_has_one(document):
    frozen, older = document("shared", 16), document("raw", 16)
    frozen["config"]["gc"] = "freeze"
    suite = build_suite([frozen, older], {})
    assert suite.get_benchmark("loop_lag.p99_ms/shared/16").get_metadata()["gc"] == "freeze"
    assert "gc" not in suite.get_benchmark("loop_lag.p99_ms/raw/16").get_metadata()


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


# load_suite_file: what the report and the gate read, refused with advice when not a suite.

_EXPECTED = (
    'is not a pyperf suite: expected a JSON object with a "benchmarks" list of objects '
    "(as `bench suite` writes), found "
)


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("[]", "a list"),
        ("null", "null"),
        ('"text"', "a string"),
        ("3.5", "a number"),
        ("{}", 'an object without "benchmarks"'),
        ('{"benchmarks": {}}', '"benchmarks" holding an object'),
        ('{"benchmarks": []}', 'an empty "benchmarks" list'),
        ('{"benchmarks": [5]}', 'a number in "benchmarks"'),
        ('{"benchmarks": [{}, null]}', 'null in "benchmarks"'),
    ],
)
def test_load_suite_file_refuses_what_is_not_a_list_of_benchmarks(tmp_path, content, found):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(BenchError) as raised:
        load_suite_file(path)
    assert str(raised.value) == f"{path} {_EXPECTED}{found}"


def test_load_suite_file_refuses_a_run_document(tmp_path, document):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document("shared", 16)))
    with pytest.raises(BenchError) as raised:
        load_suite_file(path)
    assert str(raised.value) == (
        f"{path} is the result document of one run (`bench run`), not a suite: give a suite "
        "written by `bench suite` (results/latest.json)"
    )


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"benchmarks": [{}]}', "file format version None not supported"),
        ('{"version": "1.0", "benchmarks": [{}]}', "no 'runs' key"),
        (
            '{"version": "1.0", "benchmarks": [{"runs": [{"values": []}]}]}',
            "values and warmups are empty sequence",
        ),
    ],
)
def test_load_suite_file_passes_on_pyperfs_own_refusal(tmp_path, content, why):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(BenchError) as raised:
        load_suite_file(path)
    assert str(raised.value) == (
        f"pyperf cannot read {path} as a suite ({why}): give a suite written by `bench suite`"
    )


def _pyperf_file(path, name, **metadata):
    run = pyperf.Run([1.0], metadata={"name": name, **metadata}, collect_metadata=False)
    pyperf.BenchmarkSuite([pyperf.Benchmark([run])]).dump(str(path))
    return path


def test_load_suite_file_refuses_another_tools_pyperf_file(tmp_path):
    path = _pyperf_file(tmp_path / "other.json", "json_dumps")
    with pytest.raises(BenchError) as raised:
        load_suite_file(path)
    assert str(raised.value) == (
        f"{path} holds no benchmark of this harness (named like loop_lag.p99_ms/shared/2500; "
        "its first is 'json_dumps'): is it another tool's pyperf file? Give a suite written "
        "by `bench suite`"
    )


def test_load_suite_file_refuses_what_suite_values_could_not_read(tmp_path):
    odd_name = tmp_path / "odd_name.json"
    odd_name.write_text(
        '{"version": "1.0", "benchmarks": [{"metadata": {"name": 5}, "runs": [{"values": [1]}]}]}'
    )
    with pytest.raises(BenchError) as raised:
        load_suite_file(odd_name)
    assert str(raised.value) == f"{odd_name} is not a pyperf suite: a benchmark is named 5"
    zeros = _pyperf_file(tmp_path / "zeros.json", "loop_lag.p99_ms/shared/16", zero_values="x")
    with pytest.raises(BenchError) as raised:
        load_suite_file(zeros)
    assert str(raised.value) == (
        f"{zeros} is not a suite `bench suite` wrote: loop_lag.p99_ms/shared/16 has "
        "zero_values 'x', not a count"
    )


def test_load_suite_file_reads_a_suite_and_says_why_it_cannot(tmp_path, document):
    path = tmp_path / "latest.json"
    dump_atomic(build_suite([document("shared", 16)], {}), path)
    assert load_suite_file(path).get_benchmark_names()[0] == "loop_lag.p99_ms/shared/16"
    path.write_bytes(b"\xff")
    with pytest.raises(BenchError, match=r"^cannot read suite .*latest\.json: 'utf-8' codec"):
        load_suite_file(path)


def test_load_suite_file_reads_a_gzipped_suite_as_pyperf_does(tmp_path, document):
    path = tmp_path / "latest.json.gz"
    build_suite([document("shared", 16)], {}).dump(str(path))
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # pyperf's writer compressed it
    assert load_suite_file(path).get_benchmark_names()[0] == "loop_lag.p99_ms/shared/16"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(BenchError, match=r"^cannot read suite .*latest\.json\.gz: "):
        load_suite_file(path)


def test_a_layout_adds_a_fourth_part_to_the_name_and_local_names_stay(tmp_path, document):
    mqtt = document("shared", 16, lag_p99=30.0)
    mqtt["config"] |= {"transport": "mqtt", "workers": 2}
    reference = document("raw", 16, lag_p99=1.0)
    reference["meta"]["clock"] = "virtual"
    docs = [document("shared", 16, lag_p99=10.0), mqtt, reference]
    path = tmp_path / "latest.json"
    dump_atomic(build_suite(docs, {}), path)
    suite = pyperf.BenchmarkSuite.load(str(path))
    names = set(suite.get_benchmark_names())
    assert {
        "loop_lag.p99_ms/shared/16", "loop_lag.p99_ms/shared/16/mqtt-2w",
        "loop_lag.p99_ms/raw/16/virtual",
    } <= names  # fmt: skip
    mqtt_meta = suite.get_benchmark("loop_lag.p99_ms/shared/16/mqtt-2w").get_metadata()
    assert mqtt_meta["layout"] == "mqtt-2w" and mqtt_meta["mode"] == "shared"
    assert "layout" not in suite.get_benchmark("loop_lag.p99_ms/shared/16").get_metadata()
    values = suite_values(suite)["loop_lag.p99_ms"]
    assert values[("shared", 16)] == pytest.approx([10.0])
    assert values[("shared@mqtt-2w", 16)] == pytest.approx([30.0])
    assert values[("raw@virtual", 16)] == pytest.approx([1.0])


def test_names_with_a_layout_parse_back_to_their_column():
    assert parse_benchmark_name("loop_lag.p99_ms/shared/10000/mqtt-2w") == (
        "loop_lag.p99_ms", "shared@mqtt-2w", 10000,
    )  # fmt: skip
    assert parse_benchmark_name("loop_lag.p99_ms/shared/10000/") is None
    assert parse_benchmark_name("a/b/c/d/e") is None
    assert benchmark_name(BY_PATH["loop_lag.p99_ms"], "shared@mqtt-2w", 10000) == (
        "loop_lag.p99_ms/shared/10000/mqtt-2w"
    )
    assert (
        benchmark_name(BY_PATH["loop_lag.p99_ms"], "shared", 2500) == "loop_lag.p99_ms/shared/2500"
    )


def count_record(mode, agents, per_generation, version="valgrind-3.19.0"):
    """A suite's instruction-count record, as bench.suite.instructions.suite_record makes it."""
    block = {
        "per_generation": per_generation,
        "per_message": per_generation * 1.1,
        "per_agent_setup": 110_000.0,
        "agents": agents,
        "warmup_s": 1.0,
        "duration_s": 2.0,
        "valgrind": version,
    }
    return {
        "config": {"mode": mode, "agents": agents, "seed": 1},
        "started_at": "2026-11-29T13:00:00+00:00",
        "commit": "abc123",
        "metrics": {"instructions": block},
    }


def test_instruction_counts_are_benchmarks_with_their_own_metadata(document):
    docs = [document("shared", 16, lag_p99=v) for v in (10.0, 12.0)]
    counts = [count_record("shared", 9, 700_000.5), {**count_record("raw", 9, 0), "error": "x"}]
    suite = build_suite(docs, {"suite_profile": "quick"}, counts)

    counted = suite.get_benchmark("instructions.per_generation/shared/9")
    assert counted.get_values() == (700_000.5,) and counted.get_unit() == "integer"
    assert "instructions.per_generation/raw/9" not in suite.get_benchmark_names()
    assert suite_values(suite)["instructions.per_generation"] == {("shared", 9): [700_000.5]}
    assert is_counted("instructions.per_generation/shared/9")
    assert not is_counted("loop_lag.p99_ms/shared/16")
    # pyperf's own suite metadata loses what the counts do not share; the timed runs' keeps it
    assert "clock" not in suite.get_metadata()
    timed = timed_metadata(suite)
    assert (timed["clock"], timed["workload_duration_s"], timed["suite_profile"]) == (
        "real",
        2.0,
        "quick",
    )
    assert "valgrind" not in timed
    assert counted_metadata(suite)["valgrind"] == "valgrind-3.19.0"
    assert counted_metadata(build_suite(docs, {})) == {}
