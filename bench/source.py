"""Naming Python code the same way everywhere: `qualname (path:line)` with a path that does not
depend on where the checkout lives (the instruction counts' movers, the stall probe's frames).
"""

from __future__ import annotations

import os
import sys
from types import CodeType


def short_path(path: str) -> str:
    """`path` relative to the longest sys.path folder holding it, else as it is."""
    roots = [os.path.abspath(p or os.curdir) for p in sys.path]
    full = os.path.abspath(path)
    holding = [root for root in roots if full.startswith(root + os.sep)]
    if not holding:
        return path
    return os.path.relpath(full, max(holding, key=len))


def function_name(code: CodeType) -> str:
    """`Engine._run (cascade/runtime/engine.py:227)`: the qualified name, the file under its
    sys.path entry, the function's first line."""
    return f"{code.co_qualname} ({short_path(code.co_filename)}:{code.co_firstlineno})"


def line_name(code: CodeType, line: int) -> str:
    """`Engine._run cascade/runtime/engine.py:245`: the qualified name and a line in it (where
    a sampled frame was)."""
    return f"{code.co_qualname} {short_path(code.co_filename)}:{line}"
