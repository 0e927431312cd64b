"""SIGTERM handled like Ctrl-C, for commands that drive worker processes.

CI timeouts send SIGTERM. Python's default ends the process on the spot: no summary, no
`finally`, and a worker process runs on as an orphan. Inside `sigterm_stops()` SIGTERM
raises `Terminated`, a KeyboardInterrupt, so every Ctrl-C path (stop the worker, keep what
was measured) serves it too.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal's number, as shells report a process that a signal ended."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is: it then stops exactly as on Ctrl-C."""


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """While active, SIGTERM raises Terminated; the previous handler comes back after."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_signal(stop: KeyboardInterrupt) -> signal.Signals:
    """Which signal a caught KeyboardInterrupt stands for."""
    return signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # already stopping: a second one changes nothing
    raise Terminated
