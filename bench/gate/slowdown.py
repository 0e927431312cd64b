"""A deliberate, measurable slowdown for proving the gate works (`--inject-slowdown`).

It is written only into a temporary copy of the engine, never into the checkout: the
engine's per-generation graph build is wrapped by a busy loop that keeps the CPU it has
burnt at `fraction` of all the other CPU the process spent since the first generation
(measured with process_time, so time the process spends descheduled does not count), so
the harness's "CPU per generation" grows by that fraction in every engine mode, while raw
mode (no engine) is untouched.
"""

from __future__ import annotations

from pathlib import Path

from bench.errors import BenchError

HOOK_FILE = Path("cascade/runtime/engine.py")
"""The module whose per-generation call is wrapped."""
HOOK = "build_graph"
"""The name that module calls exactly once per generation."""

_SNIPPET = '''

# --- Injected by `bench gate --inject-slowdown`, in a temporary copy: never shipped. ---
import time as _gate_time

_gate_wrapped = {hook}
_gate_state = {{"start": None, "spun": 0.0}}


def {hook}(*args, **kwargs):
    """Spin until the CPU spun so far is {fraction!r} x the CPU of everything else."""
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
    return _gate_wrapped(*args, **kwargs)
'''


def inject_slowdown(engine_root: Path, fraction: float) -> None:
    """Append the spinning wrapper to `engine_root`/cascade/runtime/engine.py."""
    if not 0 < fraction < 10:
        raise BenchError(f"--inject-slowdown must be a fraction like 0.15, got {fraction}")
    module = engine_root / HOOK_FILE
    text = module.read_text(encoding="utf-8") if module.is_file() else ""
    if f"{HOOK}(" not in text:
        raise BenchError(
            f"cannot inject a slowdown: {module} does not call {HOOK}() any more; point "
            "HOOK in bench/gate/slowdown.py at the engine's per-generation call"
        )
    module.write_text(text + _SNIPPET.format(hook=HOOK, fraction=fraction), encoding="utf-8")
