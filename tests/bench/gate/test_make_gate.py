"""`make gate`: GATE_ARGS go through; GATE_SOFT forgives exit 2 (could not run), nothing else."""

import shutil
import subprocess
from pathlib import Path

import pytest

import bench

ROOT = Path(bench.__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_gate(tmp_path: Path, status: int, *variables: str) -> subprocess.CompletedProcess[str]:
    """`make gate` with a stand-in for the venv's python that exits with `status`."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/argv"\nexit {status}\n')
    python.chmod(0o755)
    stamp = venv / ".installed-stamp"  # -o: never set up (no venv, no pip)
    command = ["make", "-s", "--no-print-directory", "-C", str(ROOT), "-o", str(stamp)]
    command += ["gate", f"VENV={venv}"]
    return subprocess.run([*command, *variables], capture_output=True, text=True, timeout=60)


def test_the_soft_gate_names_no_results_file_of_its_own(tmp_path):
    done = make_gate(tmp_path, 2, "GATE_SOFT=1", "GATE_ARGS=--results-dir elsewhere")

    assert done.returncode == 0
    assert done.stdout == "gate: could not run (exit 2, the reason is above); not a failure\n"
    assert (tmp_path / "argv").read_text() == "-m bench gate --results-dir elsewhere\n"


@pytest.mark.parametrize(("status", "soft"), [(2, ""), (1, "1"), (1, "")])
def test_a_regression_and_a_hard_exit_2_fail(tmp_path, status, soft):
    done = make_gate(tmp_path, status, f"GATE_SOFT={soft}")

    assert done.returncode != 0  # make's own status is 2 whenever a recipe fails
    assert done.stderr.endswith(f"gate] Error {status}\n")  # the recipe's: the gate's
    assert done.stdout == ""


def test_a_pass_passes(tmp_path):
    assert make_gate(tmp_path, 0, "GATE_SOFT=1").returncode == 0
