"""Bytecodes executed per Python function: a deterministic profile that names Python code.

On Python 3.11 callgrind sees only C functions: every Python function is the eval loop
(`_PyEval_EvalFrameDefault`). `sys.settrace` with `frame.f_trace_opcodes` reports each
bytecode a frame executes, so counting them per code object gives each Python function's
own (self) work, exactly repeatable for the same run. It slows the traced code ~20x, so it
runs natively, not under valgrind, and only where a function must be named.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from types import CodeType, FrameType
from typing import Any


class OpcodeCounter:
    """Counts the bytecodes each code object executes between `start()` and `stop()`, in
    the thread that started it (the event loop's)."""

    def __init__(self) -> None:
        self.counts: Counter[CodeType] = Counter()

    def _call(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return self._opcode

    def _opcode(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            self.counts[frame.f_code] += 1
        return self._opcode

    def start(self) -> None:
        """Count from now on (frames entered or resumed from now)."""
        sys.settrace(self._call)

    def stop(self) -> None:
        """Stop counting."""
        sys.settrace(None)

    def by_function(self) -> dict[str, int]:
        """Bytecodes per function, named `qualname (path:line)`; equal names add up."""
        named: Counter[str] = Counter()
        for code, count in self.counts.items():
            named[function_name(code)] += count
        return dict(named)


def function_name(code: CodeType) -> str:
    """`Engine._run (cascade/runtime/engine.py:227)`: the qualified name, the file under its
    sys.path entry (so the same code has the same name in any checkout), the first line."""
    return f"{code.co_qualname} ({short_path(code.co_filename)}:{code.co_firstlineno})"


def short_path(path: str) -> str:
    """`path` relative to the longest sys.path folder holding it, else as it is."""
    roots = [os.path.abspath(p or os.curdir) for p in sys.path]
    full = os.path.abspath(path)
    holding = [root for root in roots if full.startswith(root + os.sep)]
    if not holding:
        return path
    return os.path.relpath(full, max(holding, key=len))
