"""Markdown from results: every string that came from a run or a suite is made inert first."""

from __future__ import annotations

import re
from html import escape

_SPECIAL = re.compile(r"([\\`*_~\[\]|#])")


def md_escape(text: str) -> str:
    """Text from results, made inert: no HTML, no emphasis or links, no table or line breaks.

    `<`, `>` and `&` become entities, Markdown's special characters get a backslash, and
    line breaks a space (a cell or bullet stays one line).
    """
    one_line = " ".join(escape(text, quote=False).splitlines())
    return _SPECIAL.sub(r"\\\1", one_line)
