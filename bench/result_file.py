"""Result files: checked for writability before a run, written atomically after it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.errors import BenchError


def check_writable(path: Path) -> None:
    """Raise BenchError now, not after a 20-minute run, if `path` cannot be written."""
    if path.is_dir():
        raise BenchError(f"--out {path} is a directory; give a file name such as {path}/run.json")
    parent = path.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise BenchError(f"cannot write --out {path}: {blocker} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BenchError(f"cannot create the folder for --out {path}: {error.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BenchError(f"cannot write --out {path}: folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise BenchError(f"cannot write --out {path}: the existing file is read-only")


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: never half a file."""
    write_text_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to a temporary file beside `path`, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, public_file_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def public_file_mode() -> int:
    """The mode a plain `open(path, "w")` would give (mkstemp's own is owner-only, 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
