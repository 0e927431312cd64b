"""`.ci/system-packages`: apt-get only for what is missing, one `apt-get update` for all."""

import shutil
import subprocess
from pathlib import Path

import pytest

import bench

SCRIPT = Path(bench.__file__).resolve().parents[1] / ".ci" / "system-packages"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run(
    tmp_path: Path, *present: str, apt: bool = True
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The script with only `present` (and a logging apt-get) on PATH: (result, apt's log)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    fakes = {
        "apt-get": f'echo "${{DEBIAN_FRONTEND:-}} $*" >> "{log}"',
        "sudo": 'exec "$@"',
        **{program: "exit 0" for program in present},
    }
    if not apt:
        del fakes["apt-get"]
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    for tool in ("id", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    done = subprocess.run(
        [shutil.which("bash"), str(SCRIPT)],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, log.read_text() if log.exists() else ""


def test_nothing_is_installed_when_everything_is_there(tmp_path):
    done, apt = run(tmp_path, "chromium", "mosquitto", "valgrind")
    assert (done.returncode, done.stderr, apt) == (0, "", "")


def test_what_is_missing_is_installed_after_one_update(tmp_path):
    done, apt = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert apt == " update\nnoninteractive install -y chromium mosquitto valgrind\n"
    assert done.stderr == "installing chromium mosquitto valgrind with apt-get\n"


def test_only_what_is_missing_is_installed(tmp_path):
    done, apt = run(tmp_path, "chromium", "valgrind")
    assert done.returncode == 0, done.stderr
    assert apt == " update\nnoninteractive install -y mosquitto\n"


def test_without_apt_get_it_says_what_to_install(tmp_path):
    done, _ = run(tmp_path, apt=False)
    assert done.returncode == 1
    assert done.stderr == (
        "missing chromium mosquitto valgrind, and no apt-get to install it: install it by hand\n"
    )
