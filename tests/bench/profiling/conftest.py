"""A py-spy stand-in that starts a stubborn run, and the means to see both are gone."""

import stat
import time
from pathlib import Path

import pytest

STOPPED = "py-spy> Stopped sampling because Control-C pressed"


class StandIn:
    """A shell script standing in for py-spy in `folder`: it writes its pid and starts a
    "run" that ignores SIGINT and SIGTERM (as a run py-spy failed to kill), writing its pid;
    it samples until SIGINT, which runs `on_sigint`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def script(self, on_sigint: str = f'echo "{STOPPED}"; exit 0', sample: bool = True) -> Path:
        path = self.folder / "py-spy"
        lines = [
            f'echo $$ > "{self.folder}/py-spy.pid"',
            "(trap '' INT TERM; exec sleep 60) &",
            f'echo $! > "{self.folder}/run.pid"',
            f"trap '{on_sigint}' INT",
            'echo "py-spy> Sampling process 100 times a second."',
            "while :; do sleep 0.05; done" if sample else "",
        ]
        path.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def pid(self, name: str) -> int:
        """The pid `name` ("py-spy" or "run") wrote, once it has."""
        path = self.folder / f"{name}.pid"
        deadline = time.monotonic() + 10
        while not path.exists() or not path.read_text().strip():
            assert time.monotonic() < deadline, f"{name} never started"
            time.sleep(0.02)
        return int(path.read_text())

    @staticmethod
    def alive(pid: int) -> bool:
        """Whether `pid` runs (a zombie does not)."""
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z"

    @classmethod
    def gone(cls, pid: int, timeout: float = 5.0) -> bool:
        """Whether `pid` stops running within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while cls.alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    @staticmethod
    def reaped(pid: int) -> bool:
        """Whether `pid` is gone without a trace: not even a zombie waiting for its parent."""
        return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def stand_in(tmp_path) -> StandIn:
    return StandIn(tmp_path)
