"""The gate's decisions from plain numbers: the synthetic scenarios it must get right."""

import copy

import pytest

from bench.gate.checks import (
    CHANGED,
    EXIT_PASS,
    EXIT_REGRESSION,
    FAIL,
    IMPROVED,
    PASS,
    SKIP,
    WARN,
    Check,
    deterministic_checks,
    exit_status,
    instruction_check,
    relation_checks,
    timing_checks,
    unsettled,
)
from bench.gate.settings import COUNT_METRICS, PER_AGENT_METRICS, TIMING_METRICS, GateSettings

CPU, LAG, FLUSH, RSS = TIMING_METRICS
OBJECTS, ALLOCATIONS = PER_AGENT_METRICS
GENERATIONS, MESSAGES, MISSES, ERRORS = COUNT_METRICS
ALL_MODES = ("per_agent", "shared", "raw")

# One value per metric and mode, close to what a 900-agent run measures.
TYPICAL = {
    "per_agent": {CPU: 300.0, LAG: 5.0, FLUSH: 2.0, RSS: 4000.0},
    "shared": {CPU: 150.0, LAG: 4.0, FLUSH: 2.0, RSS: 2000.0},
    "raw": {CPU: 100.0, LAG: 3.0, FLUSH: 1.5, RSS: 1800.0},
}
BASE_NOISE = [1.0, 1.01, 0.99, 1.005, 0.995]
HEAD_NOISE = [1.004, 0.998, 1.002, 0.996, 1.0]  # paired ratios within ±1%: no change
SLOWER = [1.13, 1.17, 1.15, 1.14, 1.16]  # +15%, low noise
NOISY = [0.8, 1.6, 1.0, 1.5, 0.9]  # +12% (geometric mean), heavy noise
FASTER = [0.85, 0.86, 0.84, 0.85, 0.86]  # -15%, low noise

COUNTS = {GENERATIONS: 5000, MESSAGES: 20000, MISSES: 0, ERRORS: 0, OBJECTS: 12.5}
DETERMINISTIC = {**COUNTS, ALLOCATIONS: 2048.0}


def timing(noise, modes=ALL_MODES, values=TYPICAL):
    return {
        mode: {path: [value * n for n in noise] for path, value in values[mode].items()}
        for mode in modes
    }


def scale(series, mode, path, factors):
    """A copy of `series` with `mode`'s `path` multiplied pair by pair by `factors`."""
    result = copy.deepcopy(series)
    result[mode][path] = [v * f for v, f in zip(result[mode][path], factors, strict=True)]
    return result


def deterministic(modes=ALL_MODES, **changes):
    return {mode: {**DETERMINISTIC, **changes} for mode in modes}


def judge(base, head, settings):
    return timing_checks(base, head, settings) + relation_checks(base, head, settings)


def find(checks, name, mode):
    (found,) = [c for c in checks if c.name == name and c.mode == mode]
    return found


# --- (a) no change ----------------------------------------------------------------------------


def test_no_change_passes_every_check():
    settings = GateSettings(modes=ALL_MODES)
    base, head = timing(BASE_NOISE), timing(HEAD_NOISE)
    checks = deterministic_checks(deterministic(), deterministic(), settings) + judge(
        base, head, settings
    )
    assert len(checks) == 3 * 6 + 3 * 4 + 2
    assert {c.verdict for c in checks} == {PASS}, [c for c in checks if c.verdict != PASS]
    assert exit_status(checks) == EXIT_PASS


def test_identical_runs_pass_with_a_zero_change():
    settings = GateSettings(modes=("shared",))
    checks = timing_checks(timing(BASE_NOISE), timing(BASE_NOISE), settings)
    assert [c.verdict for c in checks] == [PASS] * 4
    assert all(c.change == 0.0 and c.low == 0.0 and c.high == 0.0 for c in checks)
    assert checks[0].note == "within 10%"


# --- (b) a significant slowdown ---------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_a_significant_15_percent_slowdown_fails_and_names_the_metric(confidence):
    settings = GateSettings(modes=("shared",), confidence=confidence)
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", CPU, SLOWER)
    checks = timing_checks(base, head, settings)
    cpu = find(checks, "CPU per generation", "shared")
    assert cpu.family == "timing" and cpu.unit == "us"
    assert cpu.verdict == FAIL
    assert cpu.change == pytest.approx(0.15, abs=0.002)
    assert 0 < cpu.low < cpu.change < cpu.high
    assert cpu.base == pytest.approx(150.0) and cpu.head == pytest.approx(172.5, rel=0.01)
    assert cpu.note == f"worse by more than 10%, significant ({settings.confidence:.0%} interval)"
    assert [c.verdict for c in checks if c is not cpu] == [PASS] * 3
    assert exit_status(checks) == EXIT_REGRESSION


def test_a_significant_but_small_slowdown_passes():
    settings = GateSettings(modes=("shared",))
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", CPU, [1.05, 1.06, 1.04, 1.05, 1.05])
    cpu = find(timing_checks(base, head, settings), "CPU per generation", "shared")
    assert cpu.verdict == PASS
    assert cpu.low > 0
    assert cpu.note == "significantly worse, but by less than 10%"


# --- (c) a change inside heavy noise ----------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_a_15_percent_change_inside_heavy_noise_only_warns(confidence):
    settings = GateSettings(modes=("shared",), confidence=confidence)
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", CPU, NOISY)
    checks = timing_checks(base, head, settings)
    cpu = find(checks, "CPU per generation", "shared")
    assert cpu.verdict == WARN
    assert cpu.change > 0.10
    assert cpu.low < 0 < cpu.high
    assert "not significant" in cpu.note and "re-run or add pairs" in cpu.note
    assert exit_status(checks) == EXIT_PASS


# --- (d) deterministic counts -----------------------------------------------------------------


def deterministic_check(path, base_value, head_value, tolerance=0.01):
    settings = GateSettings(modes=("shared",), tolerance=tolerance)
    base = {"shared": {**DETERMINISTIC, path: base_value}}
    head = {"shared": {**DETERMINISTIC, path: head_value}}
    checks = deterministic_checks(base, head, settings)
    assert len(checks) == 6
    (changed,) = [c for c in checks if c.base != c.head or c.verdict == SKIP]
    assert all(c.verdict == PASS and c.note == "identical" for c in checks if c is not changed)
    return changed


def test_identical_deterministic_values_pass():
    checks = deterministic_checks(
        deterministic(), deterministic(), GateSettings(modes=("shared", "raw"))
    )
    assert len(checks) == 12
    assert {(c.family, c.verdict, c.note, c.change) for c in checks} == {
        ("deterministic", PASS, "identical", 0.0)
    }


def test_one_more_inbox_miss_fails():
    check = deterministic_check(MISSES, 10, 11)
    assert check.name == "inbox misses"
    assert check.verdict == FAIL
    assert check.change == pytest.approx(0.1)
    assert "must match exactly" in check.note


def test_more_generations_fail():
    check = deterministic_check(GENERATIONS, 5000, 5001)
    assert check.name == "generations" and check.verdict == FAIL
    assert "more under the virtual clock" in check.note


def test_fewer_generations_are_a_change_to_check():
    check = deterministic_check(GENERATIONS, 5000, 4999)
    assert check.verdict == CHANGED
    assert "intended" in check.note


def test_objects_per_agent_within_tolerance_pass():
    check = deterministic_check(OBJECTS, 12.5, 12.5 * 1.005, tolerance=0.01)
    assert check.verdict == PASS
    assert check.note == "within tolerance 1.0%"
    assert check.change == pytest.approx(0.005)


def test_objects_per_agent_beyond_tolerance_fail():
    check = deterministic_check(OBJECTS, 12.5, 12.5 * 1.02, tolerance=0.01)
    assert check.verdict == FAIL
    assert "tolerance 1.0%" in check.note


def test_allocations_use_the_tolerance_too():
    check = deterministic_check(ALLOCATIONS, 2000.0, 2010.0, tolerance=0.01)
    assert check.name == "allocations in setup per agent" and check.verdict == PASS


def test_counts_get_no_tolerance():
    check = deterministic_check(MESSAGES, 20000, 20001, tolerance=0.5)
    assert check.verdict == FAIL
    check = deterministic_check(MESSAGES, 20000, 19999, tolerance=0.5)
    assert check.verdict == CHANGED


def test_objects_down_20_percent_is_changed_not_failed():
    check = deterministic_check(OBJECTS, 12.5, 10.0)
    assert check.verdict == CHANGED
    assert check.change == pytest.approx(-0.2)
    assert "intended" in check.note


def test_agent_errors_from_zero_fail():
    check = deterministic_check(ERRORS, 0, 3)
    assert check.name == "agent errors"
    assert check.verdict == FAIL
    assert check.change is None  # no ratio from zero
    assert exit_status([check]) == EXIT_REGRESSION


@pytest.mark.parametrize("side", ["base", "head"])
def test_a_missing_value_is_skipped(side):
    base = {"shared": dict(DETERMINISTIC)}
    head = {"shared": dict(DETERMINISTIC)}
    del (base if side == "base" else head)["shared"][MISSES]
    checks = deterministic_checks(base, head, GateSettings(modes=("shared",)))
    misses = find(checks, "inbox misses", "shared")
    assert misses.verdict == SKIP
    assert misses.note == f"no {side} value"
    assert exit_status(checks) == EXIT_PASS


def test_a_missing_mode_skips_all_its_checks():
    checks = deterministic_checks({}, deterministic(), GateSettings(modes=("raw",)))
    assert [c.verdict for c in checks] == [SKIP] * 6


# --- (e) improvements -------------------------------------------------------------------------


def test_a_significant_improvement_is_reported():
    settings = GateSettings(modes=("raw",), thresholds={})  # 10% for the lag too
    base = timing(BASE_NOISE, ("raw",))
    head = scale(base, "raw", LAG, FASTER)
    checks = timing_checks(base, head, settings)
    lag = find(checks, "event-loop lag p99", "raw")
    assert lag.verdict == IMPROVED
    assert lag.change == pytest.approx(-0.15, abs=0.002)
    assert lag.note == f"better by more than 10%, significant ({settings.confidence:.0%} interval)"
    assert exit_status(checks) == EXIT_PASS


def test_an_improvement_inside_heavy_noise_is_a_pass():
    settings = GateSettings(modes=("raw",), thresholds={})
    base = timing(BASE_NOISE, ("raw",))
    head = scale(base, "raw", LAG, [1 / f for f in NOISY])
    check = find(timing_checks(base, head, settings), "event-loop lag p99", "raw")
    assert check.verdict == PASS
    assert "better by more than 10% but not significant" in check.note


# --- (f) relations between modes on the head --------------------------------------------------

RSS_RELATION = "RSS per agent, shared / per_agent"
CPU_RELATION = "CPU per generation, shared / raw"


def test_shared_using_more_memory_than_per_agent_fails():
    settings = GateSettings(modes=ALL_MODES)
    base = timing(BASE_NOISE)
    head = scale(base, "shared", RSS, [2.2] * 5)  # 4400 bytes vs per_agent's 4000
    check = find(relation_checks(base, head, settings), RSS_RELATION, "head")
    assert check.family == "relation"
    assert check.verdict == FAIL
    assert check.base == pytest.approx(0.5) and check.head == pytest.approx(1.1)
    assert "more memory" in check.note


def test_shared_lighter_than_per_agent_passes():
    settings = GateSettings(modes=ALL_MODES)
    base = timing(BASE_NOISE)
    check = find(relation_checks(base, timing(HEAD_NOISE), settings), RSS_RELATION, "head")
    assert check.verdict == PASS
    assert check.head == pytest.approx(0.5, rel=0.01)


def test_relations_need_both_modes():
    base = timing(BASE_NOISE)
    assert relation_checks(base, base, GateSettings(modes=("shared",))) == []
    checks = relation_checks(base, base, GateSettings(modes=("shared", "raw")))
    assert [c.name for c in checks] == [CPU_RELATION]
    checks = relation_checks(base, base, GateSettings(modes=("per_agent", "shared")))
    assert [c.name for c in checks] == [RSS_RELATION]


def cpu_relation(base_shared_cpu, head_shared_cpu, base_noise, head_noise):
    """The shared/raw check with raw at 100 us and shared at the given CPU per generation."""
    values = {mode: dict(metrics) for mode, metrics in TYPICAL.items()}
    values["shared"][CPU] = base_shared_cpu
    base = timing(base_noise, values=values)
    values["shared"][CPU] = head_shared_cpu
    head = timing(head_noise, values=values)
    return find(relation_checks(base, head, GateSettings(modes=ALL_MODES)), CPU_RELATION, "head")


def test_shared_within_the_factor_of_raw_passes():
    check = cpu_relation(150.0, 190.0, BASE_NOISE, HEAD_NOISE)
    assert check.verdict == PASS
    assert check.head == pytest.approx(1.9)
    assert check.note == "at most 2x raw"


def test_shared_above_the_factor_but_as_on_the_base_warns():
    check = cpu_relation(250.0, 250.0, BASE_NOISE, HEAD_NOISE)
    assert check.verdict == WARN
    assert check.head == pytest.approx(2.5)
    assert "no worse than the base" in check.note


def test_shared_above_the_factor_and_significantly_worse_than_the_base_fails():
    values = {mode: dict(metrics) for mode, metrics in TYPICAL.items()}
    values["shared"][CPU] = 220.0
    base = timing(BASE_NOISE, values=values)
    head = scale(base, "shared", CPU, SLOWER)  # factor 2.2 -> 2.53, +15%, low noise
    settings = GateSettings(modes=ALL_MODES)
    check = find(relation_checks(base, head, settings), CPU_RELATION, "head")
    assert check.verdict == FAIL
    assert check.change == pytest.approx(0.15, abs=0.002)
    assert "further from raw than the base" in check.note
    assert exit_status([check]) == EXIT_REGRESSION


def test_shared_above_the_factor_without_base_values_warns():
    values = {mode: dict(metrics) for mode, metrics in TYPICAL.items()}
    values["shared"][CPU] = 300.0
    head = timing(HEAD_NOISE, values=values)
    settings = GateSettings(modes=ALL_MODES)
    check = find(relation_checks({}, head, settings, paired=False), CPU_RELATION, "head")
    assert check.verdict == WARN
    assert "too few values" in check.note


def test_paired_the_head_alone_decides_the_factor_when_the_base_has_no_values():
    values = {mode: dict(metrics) for mode, metrics in TYPICAL.items()}
    values["shared"][CPU] = 300.0
    head = timing(HEAD_NOISE, values=values)
    check = find(relation_checks({}, head, GateSettings(modes=ALL_MODES)), CPU_RELATION, "head")
    assert check.verdict == WARN
    assert check.head == pytest.approx(3.0, rel=0.02)


def test_a_custom_factor_changes_the_relation_verdict():
    values = {mode: dict(metrics) for mode, metrics in TYPICAL.items()}
    values["shared"][CPU] = 250.0
    series = timing(BASE_NOISE, values=values)
    relaxed = GateSettings(modes=ALL_MODES, shared_vs_raw=3.0)
    assert find(relation_checks(series, series, relaxed), CPU_RELATION, "head").verdict == PASS


# --- (g) per-metric thresholds ----------------------------------------------------------------


def test_a_per_metric_threshold_overrides_the_default():
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", CPU, SLOWER)
    default = GateSettings(modes=("shared",))
    relaxed = GateSettings(modes=("shared",), thresholds={CPU: 0.20})
    assert relaxed.threshold_for(CPU) == 0.20 and relaxed.threshold_for(LAG) == 0.10
    assert find(timing_checks(base, head, default), "CPU per generation", "shared").verdict == FAIL
    cpu = find(timing_checks(base, head, relaxed), "CPU per generation", "shared")
    assert cpu.verdict == PASS


def test_a_stricter_per_metric_threshold_catches_a_smaller_slowdown():
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", LAG, [1.07, 1.08, 1.06, 1.07, 1.07])
    default = GateSettings(modes=("shared",))
    strict = GateSettings(modes=("shared",), thresholds={LAG: 0.05}, min_ms=0.0)
    assert find(timing_checks(base, head, default), "event-loop lag p99", "shared").verdict == PASS
    lag = find(timing_checks(base, head, strict), "event-loop lag p99", "shared")
    assert lag.verdict == FAIL and "more than 5%" in lag.note


def test_a_millisecond_regression_under_the_floor_only_warns():
    base = timing(BASE_NOISE, ("shared",))  # flush p99 about 2 ms
    head = scale(base, "shared", FLUSH, [1.5, 1.6, 1.55, 1.5, 1.6])
    flush = find(
        timing_checks(base, head, GateSettings(modes=("shared",))), "frame flush p99", "shared"
    )
    assert flush.verdict == WARN
    assert "medians differ by under 10 ms" in flush.note
    no_floor = GateSettings(modes=("shared",), min_ms=0.0)
    assert find(timing_checks(base, head, no_floor), "frame flush p99", "shared").verdict == FAIL


def test_the_floor_leaves_other_units_alone():
    base = timing(BASE_NOISE, ("shared",))
    head = scale(base, "shared", CPU, SLOWER)  # +15 % of 150 us: far under "10"
    cpu = find(
        timing_checks(base, head, GateSettings(modes=("shared",))), "CPU per generation", "shared"
    )
    assert cpu.verdict == FAIL


# --- (h) unusable values ----------------------------------------------------------------------


def cpu_check(base_values, head_values, *, paired=True):
    settings = GateSettings(modes=("raw",))
    base, head = {"raw": {CPU: base_values}}, {"raw": {CPU: head_values}}
    return find(timing_checks(base, head, settings, paired=paired), "CPU per generation", "raw")


def test_none_and_zero_drop_the_whole_pair():
    # If the unmatched 1000 or 500 were kept, the medians and the ratio would move.
    check = cpu_check([1000.0, 100.0, 100.0, 100.0, 100.0], [None, 100.0, 0.0, 100.0, 100.0])
    assert check.verdict == PASS
    assert check.base == 100.0 and check.head == 100.0
    assert check.change == 0.0


def test_a_slowdown_is_still_found_in_the_usable_pairs():
    check = cpu_check([100.0, None, 100.0, 100.0, 100.0], [115.0, 115.0, 116.0, 114.0, None])
    assert check.verdict == FAIL


@pytest.mark.parametrize(
    ("base_values", "head_values"),
    [
        ([100.0, None, 100.0, 0.0, 100.0], [None, 100.0, 0.0, 100.0, None]),
        ([100.0, 100.0], [100.0, None]),
        ([], []),
        ([float("nan"), 100.0], [100.0, 100.0]),
    ],
)
def test_fewer_than_two_usable_pairs_skip(base_values, head_values):
    check = cpu_check(base_values, head_values)
    assert check.verdict == SKIP
    assert check.change is None
    assert check.note == "fewer than 2 usable pairs"


def test_a_missing_metric_skips():
    settings = GateSettings(modes=("raw",))
    checks = timing_checks({"raw": {}}, {}, settings)
    assert [c.verdict for c in checks] == [SKIP] * 4


def test_unpaired_values_are_dropped_side_by_side():
    check = cpu_check([100.0, 101.0, 99.0, None], [None, 115.0, 116.0, 114.0], paired=False)
    assert check.verdict == FAIL
    assert check.base == 100.0 and check.head == 115.0
    skipped = cpu_check([100.0, None], [115.0, 116.0], paired=False)
    assert skipped.verdict == SKIP and skipped.note == "fewer than 2 usable values per side"


# --- exit status ------------------------------------------------------------------------------


def make(verdict):
    return Check("timing", "x", "raw", "us", 1.0, 1.0, 0.0, verdict)


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        ([], EXIT_PASS),
        ([PASS, IMPROVED, CHANGED, WARN, SKIP], EXIT_PASS),
        ([PASS, FAIL, WARN], EXIT_REGRESSION),
    ],
)
def test_exit_status_is_1_only_for_a_failure(verdicts, status):
    assert exit_status([make(v) for v in verdicts]) == status


def test_a_check_is_plain_data():
    data = make(PASS).as_dict()
    assert data["verdict"] == PASS and data["low"] is None and data["family"] == "timing"


def test_instructions_fail_above_the_threshold_without_statistics():
    assert instruction_check("shared", 1000.0, 1000.0, 0.01).note == "identical"
    assert instruction_check("shared", 1000.0, 1009.0, 0.01).verdict == PASS
    failed = instruction_check("shared", 1000.0, 1011.0, 0.01)
    assert (failed.verdict, failed.family) == (FAIL, "instructions")
    assert failed.change == pytest.approx(0.011)
    assert instruction_check("shared", 1000.0, 980.0, 0.01).verdict == IMPROVED


def test_instructions_missing_on_the_head_fail_and_on_the_base_skip():
    head_failed = instruction_check("raw", 1000.0, None, 0.01, "the head failed under valgrind")
    assert (head_failed.verdict, head_failed.note) == (FAIL, "the head failed under valgrind")
    assert instruction_check("raw", None, 1000.0, 0.01).verdict == SKIP


def test_a_change_over_half_the_threshold_is_measured_at_more_layouts():
    assert not unsettled(1000.0, 1004.0, 0.01)
    assert unsettled(1000.0, 1006.0, 0.01)
    assert unsettled(1000.0, 994.0, 0.01)
    assert not unsettled(None, 1000.0, 0.01)
