"""`bench run --engine REF`: the same command, on another commit's engine."""

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.engine_ref import without_engine


def test_the_command_loses_engine_and_gains_an_absolute_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--engine", "v1", "--mode", "raw", "--out", "x.json", "--engine=v2"]
    assert without_engine(argv, Path("x.json")) == [
        "run",
        "--mode",
        "raw",
        "--out",
        str(tmp_path / "x.json"),
    ]


@pytest.mark.looptime(False)
def test_a_run_on_an_old_engine_says_which_engine_it_ran(tmp_path):
    out = tmp_path / "old.json"
    args = ["run", "--mode", "shared", "--agents", "25", "--duration", "0.5", "--quiet"]

    assert main([*args, "--engine", "HEAD", "--out", str(out)]) == 0

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["meta"]["engine"]["ref"] == "HEAD"
    assert len(document["meta"]["engine"]["commit"]) == 40
    assert document["metrics"]["work"]["flashes"] >= 0


def test_a_ref_that_does_not_resolve_is_refused(tmp_path, capsys):
    out = tmp_path / "x.json"
    status = main(
        ["run", "--agents", "25", "--quiet", "--engine", "no-such-ref", "--out", str(out)]
    )
    assert status == 2
    assert "does not resolve" in capsys.readouterr().err
    assert not out.exists()
