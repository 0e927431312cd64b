import math

from bench.report.timeline import representative_run, timelines


def test_the_median_run_by_lag_p99_represents_a_mode(run_document):
    runs = [run_document("shared", 16, r) for r in (0, 2, 1)]  # lag p99 grows with r
    assert representative_run(runs, "shared", 16) is runs[2]
    assert representative_run(runs[:2], "shared", 16) is runs[0]  # the lower of two
    assert representative_run(runs, "raw", 16) is None


def test_series_get_interval_edges_and_gaps(run_document):
    documents = [run_document("shared", 16, 0), run_document("raw", 16, 0)]
    del documents[1]["series"]["convergence"]
    (line,) = timelines(documents, ("per_agent", "shared", "raw"), 16)
    assert line.mode == "shared"
    assert line.lag_edges_s == (0.0, 1.0, 2.0, 3.0)  # second k covers [k, k+1)
    assert math.isnan(line.lag_p99_ms[1])  # a second without samples is a gap
    assert line.flash_edges_s == (0.0, 1.0, 2.0, 3.0)  # a sample counts the second before it
    assert line.r_t_s == (1.0, 2.0, 3.0) and line.r == (0.9, 0.5, 0.3)
