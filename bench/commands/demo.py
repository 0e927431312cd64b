"""`python -m bench demo`: the live grid of flashes in the terminal, with a status line.

The same run as `bench run`, rendered into the terminal instead of a null sink. Ctrl-C or
`q` stops it; the terminal is restored either way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

from rich.console import Console

from bench.commands.run import RunOptions, build_spec, summary_table
from bench.runner import execute

_ENTER = b"\x1b[?1049h\x1b[2J\x1b[?25l"  # alternate screen, clear, hide cursor
_LEAVE = b"\x1b[0m\x1b[?25h\x1b[?1049l"  # reset colours, show cursor, main screen


def demo_command(options: RunOptions) -> int:
    """Validate, then render the run live until its duration ends or the user quits."""
    spec = replace(build_spec(options), sink=sys.stdout.buffer, live_status=True)
    with _terminal():
        document = execute(spec)
    Console().print(summary_table(document))
    return 0


@contextlib.contextmanager
def _terminal() -> Iterator[None]:
    """Alternate screen + cbreak input with a `q` key that stops the run like Ctrl-C does."""
    out = sys.stdout.buffer
    out.write(_ENTER)
    out.flush()
    restore = _cbreak_stdin()
    try:
        yield
    finally:
        restore()
        out.write(_LEAVE)
        out.flush()


def _cbreak_stdin() -> Callable[[], None]:
    if not sys.stdin.isatty():
        return lambda: None
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    threading.Thread(target=_watch_for_q, args=(fd,), daemon=True).start()
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _watch_for_q(fd: int) -> None:
    while True:
        key = os.read(fd, 1)
        if not key or key in (b"q", b"Q"):
            signal.raise_signal(signal.SIGINT)  # the run's own graceful-stop path
            return
