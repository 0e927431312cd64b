"""The soak: its verdict from synthetic documents (pure), and the command end to end."""

import json

import pytest

from bench.cli import main
from bench.commands.soak import SoakOptions, soak_command
from bench.soak import SoakLimits, as_markdown, judge, objects_growth


def document(rss_slope=0.0, counts=None, mode="shared"):
    """A run document with just what the soak reads."""
    counts = [100_000] * 20 if counts is None else counts
    return {
        "config": {"mode": mode, "agents": 2500, "duration": 60.0},
        "meta": {"commit": "abc", "cpu_model": "cpu", "python": "3.11.7"},
        "interrupted": False,
        "metrics": {"memory": {"leak_slope_bytes_per_s": rss_slope}},
        "series": {"objects": {"t_s": [float(t) for t in range(len(counts))], "count": counts}},
    }


def test_flat_memory_passes():
    verdict = judge(document(rss_slope=300.0))

    assert verdict.passed
    assert verdict.failures == []
    assert verdict.objects_growth == pytest.approx(0.0)
    assert verdict.objects_mean == 100_000


def test_an_rss_slope_over_the_limit_fails():
    verdict = judge(document(rss_slope=1_500.0))

    assert not verdict.passed
    assert verdict.failures == ["RSS grew 1,500 B/s over the second half (limit 1,024 B/s)"]


def test_objects_that_grow_more_than_one_percent_in_the_second_half_fail():
    # 100 more objects a second: over the second half (9 s) +900 on ~101,450 = +0.89%...
    slow = [100_000 + 100 * t for t in range(20)]
    assert judge(document(counts=slow)).passed
    # ... and 200 a second, +1.75%
    fast = [100_000 + 200 * t for t in range(20)]
    verdict = judge(document(counts=fast))
    assert not verdict.passed
    assert verdict.failures == [
        "gc-tracked objects grew +1.75% over the second half (limit +1.00%)"
    ]


def test_growth_is_the_trend_not_the_ends_of_a_swinging_count():
    swinging = [100_000 + (5_000 if t % 2 else -5_000) for t in range(200)]  # ±5%, no trend

    growth, mean, span = objects_growth(list(range(200)), swinging)

    assert abs(growth) < 0.005  # the last sample alone says +5%, the first -5%
    assert mean == 100_000
    assert span == 99


def test_a_run_too_short_to_judge_fails_and_says_so():
    verdict = judge(document(rss_slope=None, counts=[1, 2]))

    assert not verdict.passed
    assert verdict.failures == ["too short to judge: the second half needs three samples of each"]


def test_limits_can_be_relaxed():
    assert judge(document(rss_slope=1_500.0), SoakLimits(rss_slope_bytes_per_s=2_000)).passed


def test_the_markdown_escapes_what_came_from_the_run():
    doc = document(mode="<img src=x onerror=alert(1)>|x")

    markdown = as_markdown(judge(doc), doc, "runs/soak.json")

    assert "<img" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;\\|x, 2,500 agents, 60 s (complete)" in markdown
    assert "| RSS slope | 0 B/s | 1,024 B/s |" in markdown


def test_a_soak_on_the_virtual_clock_writes_its_run_and_its_verdict(tmp_path):
    options = SoakOptions(
        minutes=0.5, agents=25, objects_interval=1.0, results_dir=tmp_path, quiet=True,
        limits=SoakLimits(rss_slope_bytes_per_s=1e12, objects_growth=1.0), clock="virtual",
    )  # fmt: skip

    assert soak_command(options) == 0

    verdict = json.loads((tmp_path / "soak.json").read_text())["verdict"]
    assert verdict["passed"] is True
    assert verdict["second_half_s"] == pytest.approx(14.0)
    (run,) = (tmp_path / "runs").glob("soak-*-shared-25.json")
    counts = json.loads(run.read_text())["series"]["objects"]["count"]
    assert len(counts) == 30  # one a second, from 1 s to 30 s
    assert (tmp_path / "soak.md").read_text().startswith("# Soak: PASS\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--minutes", "0"], "error: --minutes must be a number > 0, got 0.0\n"),
        (["--minutes", "nan"], "error: --minutes must be a number > 0, got nan\n"),
        (
            ["--max-objects-growth", "-1"],
            "error: --max-objects-growth must be a fraction >= 0, got -1.0\n",
        ),
        (
            ["--objects-interval", "0"],
            "error: --objects-interval must be a number of seconds > 0, got 0.0\n",
        ),
        (["--agents", "10"], None),
    ],
)
def test_bad_input_is_refused_before_any_work(tmp_path, capsys, args, message):
    status = main(["soak", "--results-dir", str(tmp_path), *args])

    assert status == 2
    err = capsys.readouterr().err
    assert err == message if message else err.startswith("error: --agents must be a square")
    assert not (tmp_path / "runs").exists()
