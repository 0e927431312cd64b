"""`python -m bench demo`: live ANSI frames inside the alternate screen, then the summary."""

import io
import re
import sys

import pytest

from bench.commands.demo import demo_command
from bench.commands.run import RunOptions
from bench.errors import BenchError

ENTER = b"\x1b[?1049h\x1b[2J\x1b[?25l"  # alternate screen, clear, hide cursor
LEAVE = b"\x1b[0m\x1b[?25h\x1b[?1049l"  # reset colours, show cursor, main screen
HOME = b"\x1b[H"
CELL = re.compile(rb"\x1b\[48;5;\d+m  ")


def fake_stdout(monkeypatch) -> io.BytesIO:
    """A stdout that is not a terminal, whose text and bytes both land in one BytesIO.

    Called in the test body, not a fixture: pytest's capture re-patches sys.stdout between
    a test's setup and call phases.
    """
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8", write_through=True))
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a tty: no cbreak, no `q` watcher
    return raw


def test_demo_draws_frames_in_the_alternate_screen(monkeypatch):
    stdout = fake_stdout(monkeypatch)
    options = RunOptions(mode="shared", agents=25, duration=0.5)

    assert demo_command(options) == 0

    output = stdout.getvalue()
    assert output.startswith(ENTER)
    assert output.count(ENTER) == 1
    assert output.count(LEAVE) == 1
    screen, after = output.split(LEAVE)
    frames = screen[len(ENTER) :].split(HOME)[1:]
    assert len(frames) >= 10  # ~30 at 60 fps for 0.5 s
    first_frame = frames[0].decode()
    assert len(CELL.findall(frames[0])) == 25  # a 5x5 grid
    assert "shared · 25 agents" in first_frame
    assert "q or Ctrl-C quits" in first_frame
    assert all(b"q or Ctrl-C quits" in frame for frame in frames)
    # The summary table comes after the screen is restored, in plain text (not a tty).
    table = after.decode()
    assert "metric" in table
    assert "event-loop lag p99" in table
    assert "\x1b[" not in table


def test_demo_bad_input_touches_no_terminal(monkeypatch):
    stdout = fake_stdout(monkeypatch)

    with pytest.raises(BenchError, match="--agents must be a square number"):
        demo_command(RunOptions(agents=26))

    assert stdout.getvalue() == b""
