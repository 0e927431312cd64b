"""The smoke demonstration that `make bench` runs until the benchmark suites land."""

import pytest

from bench.__main__ import main
from bench.smoke import LAYOUTS, SmokeResult, format_table, run_smoke


def test_every_layout_runs_the_same_number_of_generations():
    results = run_smoke(agents=5, generations=4)
    assert [r.layout for r in results] == list(LAYOUTS)
    assert {r.generations for r in results} == {20}
    assert all(r.cpu_seconds >= 0 and r.wall_seconds > 0 for r in results)


def test_table_shows_ratio_to_raw():
    results = [SmokeResult("shared", 1, 10, 1.0, 0.002), SmokeResult("raw", 1, 10, 1.0, 0.001)]
    table = format_table(results)
    assert table.splitlines()[1].split()[-1] == "2.0"
    assert table.splitlines()[2].split()[-1] == "1.0"


def test_cli_rejects_non_positive_agents(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--agents", "0"])
    assert exc.value.code == 2
    assert "must be a positive integer, got 0" in capsys.readouterr().err


def test_cli_prints_the_table(capsys):
    assert main(["--agents", "3", "--generations", "2", "--layouts", "shared", "raw"]) == 0
    out = capsys.readouterr().out
    assert "shared" in out and "raw" in out and "per_agent" not in out.split("\n", 1)[1]
