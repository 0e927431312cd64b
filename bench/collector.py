"""What the garbage collector does during a run (`bench run --gc`): a what-if knob.

`default` leaves it alone; `freeze` calls `gc.freeze()` after set-up, so every object alive
then moves to a permanent generation that no collection walks again (what large services
do after start-up); `off-during-run` disables automatic collection while the agents run.
The stall probe then shows how much of the loop's lag the collector owns.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from bench.errors import BenchError

GC_MODES = ("default", "freeze", "off-during-run")


def check_gc_mode(mode: str) -> None:
    """Refuse an unknown mode, naming the known ones."""
    if mode not in GC_MODES:
        raise BenchError(f"--gc must be one of {', '.join(GC_MODES)}, got {mode!r}")


@contextlib.contextmanager
def collector(mode: str) -> Iterator[None]:
    """The collector in `mode` for the block (entered after set-up), as it was afterwards."""
    check_gc_mode(mode)
    if mode == "freeze":
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
    elif mode == "off-during-run":
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()
    else:
        yield
