"""Result files: checked for writability before a run, written atomically after it."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.errors import BenchError


def check_writable(path: Path, option: str = "--out") -> None:
    """Raise BenchError now, not after a 20-minute run, if `path` cannot be written.

    `option` is the command-line option the path came from, so the message names what the
    user actually typed (`--out`, `--results-dir`, `--out-dir`).
    """
    if path.is_dir():
        if option == "--out":  # the user named this very path
            raise BenchError(
                f"{option} {path} is a directory; give a file name such as {path}/run.json"
            )
        raise BenchError(f"cannot write {path} in {option} {path.parent}: it is a directory")
    refuse_non_regular(path, option)
    parent = path.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise BenchError(f"cannot write {option} {path}: {blocker} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BenchError(
            f"cannot create the folder for {option} {path}: {error.strerror}"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BenchError(f"cannot write {option} {path}: folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise BenchError(f"cannot write {option} {path}: the existing file is read-only")


def refuse_non_regular(path: Path, option: str = "--out") -> None:
    """Refuse to replace a device, pipe or socket: as root, `--out /dev/null` would replace it."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise BenchError(
            f"cannot write {option} {path}: it exists and is not a regular file "
            "(a device, pipe or socket); give a file name"
        )


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: never half a file."""
    write_text_atomic(path, _json_text(document))


def write_json_or_keep(path: Path, document: Any, option: str = "--out") -> str | None:
    """Write `document` to `path`: None when done, else a one-line message saying where it went.

    A measured run must not be lost to a full disk: when `path` cannot be written, the JSON
    goes to a new file named like it in the temporary folder, failing that to stderr (one
    line, after the caller prints the message).
    """
    text = _json_text(document)
    try:
        write_text_atomic(path, text)
        return None
    except (OSError, BenchError) as error:
        failed = f"cannot write {option} {path}: {_reason(error)} (the result needs {_size(text)})"
    try:
        return f"{failed}; kept it in {_write_fallback(path, text)} instead"
    except OSError as error:
        print(json.dumps(document, allow_nan=False), file=sys.stderr, flush=True)
        folder = tempfile.gettempdir()
        return f"{failed}, nor in {folder}: {_reason(error)}; the result is on stderr above"


def _write_fallback(path: Path, text: str) -> Path:
    """Write `text` to a new file in the temporary folder, named like `path`."""
    fd, name = tempfile.mkstemp(prefix=f"{path.stem}-", suffix=path.suffix)
    os.close(fd)  # the empty file reserves a name no other run can take
    try:
        write_text_atomic(Path(name), text)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _json_text(document: Any) -> str:
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def _reason(error: Exception) -> str:
    strerror = getattr(error, "strerror", None)
    return strerror if isinstance(strerror, str) else str(error)


def _size(text: str) -> str:
    size = len(text.encode("utf-8"))
    return f"{size:,} bytes" if size < 1024 * 1024 else f"{size / 2**20:,.1f} MiB ({size:,} bytes)"


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to a temporary file beside `path`, fsync it, then rename it over `path`."""
    refuse_non_regular(path, "the result file")
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
