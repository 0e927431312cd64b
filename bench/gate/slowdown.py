"""A deliberate, measurable slowdown for proving the gate works (`--inject-slowdown`).

It is written only into a temporary copy of the engine, never into the checkout: the
engine's per-generation method is wrapped by a busy loop that keeps the CPU it has
burnt at `fraction` of all the other CPU the process spent since the first generation
(measured with process_time, so time the process spends descheduled does not count), so
the harness's "CPU per generation" grows by that fraction in every engine mode, while raw
mode (no engine) is untouched.
"""

from __future__ import annotations

from pathlib import Path

from bench.errors import BenchError

HOOK_FILE = Path("cascade/runtime/engine.py")
"""The module whose per-generation method is wrapped."""
HOOK = "Engine._chain"
"""The method the engine calls exactly once per generation, whatever path it takes. The
wrapper spins when it is called; for an async method it then returns the coroutine the
engine awaits, so either form works."""

_SNIPPET = '''

# --- Injected by `bench gate --inject-slowdown`, in a temporary copy: never shipped. ---
import time as _gate_time

_gate_wrapped = {cls}.{method}
_gate_state = {{"start": None, "spun": 0.0}}


def _gate_spinning(self, *args, **kwargs):
    """Spin until the CPU spun so far is {fraction!r} x the CPU of everything else, then
    call the engine's own method."""
    state = _gate_state
    now = _gate_time.process_time()
    if state["start"] is None:
        state["start"] = now
    else:
        owed = {fraction!r} * (now - state["start"] - state["spun"]) - state["spun"]
        clock = now
        while clock < now + owed:
            clock = _gate_time.process_time()
        state["spun"] += clock - now
    return _gate_wrapped(self, *args, **kwargs)


{cls}.{method} = _gate_spinning
'''


def inject_slowdown(engine_root: Path, fraction: float) -> None:
    """Append the spinning wrapper to `engine_root`/cascade/runtime/engine.py."""
    if not 0 < fraction < 10:
        raise BenchError(f"--inject-slowdown must be a fraction like 0.15, got {fraction}")
    module = engine_root / HOOK_FILE
    text = module.read_text(encoding="utf-8") if module.is_file() else ""
    cls, method = HOOK.split(".")
    if f"class {cls}" not in text or f"def {method}(" not in text:
        raise BenchError(
            f"cannot inject a slowdown: {module} has no {HOOK}() any more; point HOOK in "
            "bench/gate/slowdown.py at the engine's per-generation method"
        )
    snippet = _SNIPPET.format(cls=cls, method=method, fraction=fraction)
    module.write_text(text + snippet, encoding="utf-8")
