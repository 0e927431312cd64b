import pyperf
import pytest

from bench.metrics import BY_PATH
from bench.report import compare
from bench.report.compare import (
    Significance,
    changes,
    comparison_sentences,
    mismatches,
    significance,
    untested_reason,
)

LAG = BY_PATH["loop_lag.p99_ms"]
FPS = BY_PATH["frame.fps"]


def benchmark(*values):
    runs = [
        pyperf.Run([v], metadata={"name": "lag", "unit": "second"}, collect_metadata=False)
        for v in values
    ]
    return pyperf.Benchmark(runs)


def test_the_report_names_its_test():
    assert compare.SIGNIFICANCE_SOURCE == (
        "Welch's t-test on the log of the values, 95 % (bench.stats.welch_test); t > 0: new larger"
    )


def test_significance_is_welchs_t_test_on_the_logs():
    # scipy.stats.ttest_ind(np.log(new), np.log(old), equal_var=False): t 10.743, p 0.0019
    found = significance(benchmark(1.0, 1.1, 0.9), benchmark(2.0, 2.1, 1.9))
    assert found.significant is True and found.t_score == pytest.approx(10.743, abs=1e-3)
    # t 0.068, p 0.95
    noise = significance(benchmark(1.0, 1.2, 0.9), benchmark(1.1, 1.0, 1.0))
    assert noise.significant is False and noise.t_score == pytest.approx(0.068, abs=1e-3)


def test_different_numbers_of_runs_are_tested():
    # pyperf's test needed equal sizes; Welch's does not (scipy: t 11.465, p 0.0027)
    sizes = significance(benchmark(1.0, 1.1, 0.9), benchmark(2.0, 2.1))
    assert sizes.significant is True and sizes.t_score == pytest.approx(11.465, abs=1e-3)


def test_one_constant_side_is_tested():
    # a deterministic count against a noisy one (scipy: t 9.068, df 2, p 0.012)
    found = significance(benchmark(5.0, 5.0, 5.0), benchmark(5.5, 5.6, 5.4))
    assert found.significant is True and found.t_score == pytest.approx(9.068, abs=1e-3)


def test_what_welch_cannot_test_is_untested_not_significant():
    same = significance(benchmark(3.0, 3.0), benchmark(4.0, 4.0))
    assert same == Significance(None, None, "no variance (identical values on each side)")
    assert significance(benchmark(1.0), benchmark(2.0)).untested_because == (
        "one value on each side"
    )
    assert significance(benchmark(1.0, 1.1), benchmark(2.0)).untested_because == (
        "one value on one side"
    )
    assert significance(None, benchmark(1.0)).untested_because == (
        "no values > 0 on one side (pyperf keeps none)"
    )


def test_untested_reason_is_empty_when_the_test_can_run():
    assert untested_reason([1.0, 1.1], [2.0, 2.0]) == ""
    assert untested_reason([1.0], [2.0, 2.1]) == "one value on one side"


def fixed(significant):
    return lambda metric, mode, agents: Significance(significant, 3.0 if significant else 0.1)


def test_changes_pair_common_benchmarks_with_a_verdict_by_direction():
    old = {"loop_lag.p99_ms": {("shared", 16): [10.0], ("raw", 16): [5.0], ("raw", 36): [6.0]}}
    new = {"loop_lag.p99_ms": {("shared", 16): [20.0], ("raw", 16): [4.0]}, "frame.fps": {}}
    found = changes(old, new, fixed(True))
    assert [(c.mode, c.agents, c.ratio) for c in found] == [("shared", 16, 2.0), ("raw", 16, 0.8)]
    assert [c.verdict for c in found] == ["worse", "better"]
    fps = changes(
        {"frame.fps": {("raw", 16): [50.0]}}, {"frame.fps": {("raw", 16): [60.0]}}, fixed(True)
    )
    assert fps[0].verdict == "better"  # more frames per second is better
    assert changes(old, new, fixed(False))[0].verdict == "not significant"


def test_comparison_sentences_count_and_name_the_largest():
    old = {
        "loop_lag.p99_ms": {("shared", 16): [10.0], ("raw", 16): [5.0], ("per_agent", 16): [1.0]}
    }
    new = {
        "loop_lag.p99_ms": {("shared", 16): [12.5], ("raw", 16): [4.0], ("per_agent", 16): [1.0]}
    }

    def test(metric, mode, agents):
        if mode == "per_agent":
            return Significance(None, None, "no variance (identical values)")
        return Significance(True, 5.0)

    assert comparison_sentences(changes(old, new, test)) == [
        "Of 3 benchmarks in both suites, 1 got significantly better and 1 significantly worse; "
        "1 could not be tested (1: no variance (identical values)).",
        "Largest significant regression: event-loop lag p99, shared, 16 agents: +25.0 %.",
        "Largest significant improvement: event-loop lag p99, raw, 16 agents: -20.0 %.",
    ]
    assert comparison_sentences([]) == ["The two suites have no benchmark in common."]


def test_differing_set_ups_are_named():
    old = {"loop": "asyncio", "clock": "real", "cpu_model": "A", "commit": "1"}
    new = {"loop": "uvloop", "clock": "real", "cpu_model": "B", "commit": "2"}
    assert mismatches(old, new) == [
        "loop differs: asyncio (old) vs uvloop (new)",
        "cpu_model differs: A (old) vs B (new)",
    ]
