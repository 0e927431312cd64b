"""`python -m bench suite` through the CLI: the options as the user types them."""

import pyperf
import pytest

from bench.cli import main

pytestmark = pytest.mark.usefixtures("quiet_machine")

NO_MODE = "--modes names no mode; choose from per_agent, shared, bare, raw"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modes", ","], NO_MODE),
        (["--modes", " "], NO_MODE),
        (
            ["--agents", ", ,"],
            "--agents names no number; give whole numbers, e.g. --agents 400,900",
        ),
        (["--repeat", "0"], "--repeat must be at least 1, got 0"),
        (
            ["--agents", "400,401"],
            "--agents must be a square number (agents sit on a square grid), got 401: "
            "the nearest are 400 (20x20) and 441 (21x21)",
        ),
    ],
)
def test_suite_refuses_naming_its_own_options(args, message, tmp_path, fake_worker, capsys):
    status = main(["suite", *args, "--results-dir", str(tmp_path), "--quiet"])
    assert status == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert fake_worker == [] and list(tmp_path.iterdir()) == []


def test_gate_refuses_an_empty_modes_too(tmp_path, capsys):
    assert main(["gate", "--modes", ",", "--results-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {NO_MODE}\n"


def test_a_repeated_mode_or_size_is_measured_once_with_a_note(tmp_path, fake_worker, capsys):
    args = ["--modes", "shared,raw,shared", "--agents", "16 16", "--repeat", "2"]
    assert main(["suite", "--profile", "quick", *args, "--results-dir", str(tmp_path)]) == 0
    assert sorted(fake_worker) == ["raw-16", "raw-16", "shared-16", "shared-16"]
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: --modes names shared twice; measuring it once",
        "note: --agents names 16 twice; measuring it once",
    ]
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    assert len(suite.get_benchmark("loop_lag.p99_ms/shared/16").get_values()) == 2


def test_an_unwritable_results_dir_is_named_as_given(tmp_path, fake_worker, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["suite", "--results-dir", str(blocker), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot write --results-dir {blocker}/latest.json: {blocker} is a file, "
        "not a folder\n"
    )
    assert fake_worker == []


def test_a_bad_gc_mode_is_refused_before_any_run(tmp_path, fake_worker, capsys):
    assert main(["suite", "--gc", "never", "--results-dir", str(tmp_path), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "error: --gc must be one of default, freeze, off-during-run, got 'never'\n"
    )
    assert fake_worker == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("gc", ["freeze", None])
def test_the_suite_records_its_gc_mode(gc, tmp_path, fake_worker):
    args = ["--profile", "quick", "--modes", "shared", "--agents", "16", "--repeat", "1"]
    args += ["--gc", gc] if gc else []  # `make bench` passes nothing: the default
    assert main(["suite", *args, "--no-instructions", "--results-dir", str(tmp_path)]) == 0
    suite = pyperf.BenchmarkSuite.load(str(tmp_path / "latest.json"))
    assert suite.get_metadata()["gc"] == (gc or "default")
    assert f"gc {gc or 'default'}; started" in (tmp_path / "latest.md").read_text()
