import pytest
from hdrh.histogram import HdrHistogram

from bench.report.lag import lag_cdf, mode_cdfs


def encoded(values_us):
    histogram = HdrHistogram(1, 60_000_000, 3)
    for value in values_us:
        histogram.record_value(value)
    return histogram.encode().decode("ascii")


def test_repeats_merge_into_one_cdf_in_ms():
    cdf = lag_cdf([encoded([1000, 2000]), encoded([2000, 4000])])
    assert cdf.count == 4 and cdf.runs == 2
    assert cdf.values_ms == pytest.approx((1.0, 2.0, 4.0), rel=1e-3)
    assert cdf.fractions == (0.25, 0.75, 1.0)
    assert cdf.value_at(0.5) == pytest.approx(2.0, rel=1e-3)
    assert cdf.value_at(0.99) == pytest.approx(4.0, rel=1e-3)


def test_no_samples_no_cdf():
    assert lag_cdf([]) is None
    assert lag_cdf([encoded([])]) is None


def test_mode_cdfs_take_only_that_size_and_skip_runs_without_a_histogram(run_document):
    documents = [run_document("shared", 16, 0), run_document("shared", 36, 0)]
    documents.append(run_document("raw", 36, 0))
    del documents[-1]["series"]["loop_lag_histogram"]
    cdfs = mode_cdfs(documents, ("per_agent", "shared", "raw"), 36)
    assert list(cdfs) == ["shared"] and cdfs["shared"].runs == 1
