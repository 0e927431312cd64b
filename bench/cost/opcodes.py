"""Bytecodes executed per Python function: a deterministic profile that names Python code.

On Python 3.11 callgrind sees only C functions: every Python function is the eval loop
(`_PyEval_EvalFrameDefault`). `sys.settrace` with `frame.f_trace_opcodes` reports each
bytecode a frame executes, so counting them per code object gives each Python function's
own (self) work, exactly repeatable for the same run. It slows the traced code ~20x, so it
runs natively, not under valgrind, and only where a function must be named.
"""

from __future__ import annotations

import sys
from collections import Counter
from types import CodeType, FrameType
from typing import Any

from bench.source import function_name


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
