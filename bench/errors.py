"""The one user-facing error of the harness: shown as a message, never as a traceback."""

from __future__ import annotations


class BenchError(Exception):
    """Bad input or an impossible request; the message names the problem and the fix."""
