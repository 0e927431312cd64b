"""The two sides of a gate run, from git: which commits, and folders to run them from.

A side's run folder pairs the head's harness (`bench/`) with that side's engine
(`cascade/`), so both sides are measured by the same harness, as asv runs one benchmark
suite against many commits. Refs go to git as arguments, never through a shell; a ref
that does not resolve, or a checkout without git history, is a BenchError (exit 2).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

HARNESS, ENGINE = "bench", "cascade"
_GIT_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the comparison: a name for people, its commit, and the engine's folder."""

    label: str
    commit: str | None
    source: Path
    """The folder holding this side's `cascade/` (and, for the head, `bench/`)."""
    slowdown: float | None = None
    """CPU per generation its engines are slowed by (`--inject-slowdown`, the head only)."""


def repo_root(start: Path) -> Path:
    """The top of the git checkout holding `start`; BenchError when there is none."""
    try:
        top = _git(start, "rev-parse", "--show-toplevel")
    except BenchError as error:
        raise BenchError(
            f"no git history at {start} ({error}); the gate needs one to build the base, "
            "or use --baseline FILE to compare with a stored suite"
        ) from None
    return Path(top)


def resolve(repo: Path, ref: str) -> str:
    """The full commit id of `ref`; BenchError naming the ref when git cannot resolve it."""
    if not ref or ref.startswith("-"):
        raise BenchError(f"{ref!r} is not a git ref; pass a branch, tag or commit")
    try:
        return _git(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except BenchError:
        raise BenchError(
            f"git ref {ref!r} does not resolve to a commit in {repo}; check the name, or "
            "fetch it (a shallow clone needs `git fetch --unshallow`)"
        ) from None


def default_base(repo: Path) -> tuple[str, str]:
    """(label, commit): the merge-base with main, or HEAD~1 when HEAD is on main already."""
    head = resolve(repo, "HEAD")
    for main in ("main", "origin/main"):
        with contextlib.suppress(BenchError):
            base = _git(repo, "merge-base", "HEAD", resolve(repo, main))
            if base != head:
                return f"merge-base with {main}", base
    try:
        return "HEAD~1", resolve(repo, "HEAD~1")
    except BenchError:
        raise BenchError(
            "no base to compare with: HEAD has no parent and no merge-base with main; pass "
            "--base REF, or --baseline FILE to compare with a stored suite"
        ) from None


def is_dirty(repo: Path) -> bool:
    """Whether tracked files differ from HEAD (the working tree is then not HEAD)."""
    return bool(_git(repo, "status", "--porcelain", "--untracked-files=no"))


@contextlib.contextmanager
def checked_out(repo: Path, commit: str) -> Iterator[Path]:
    """A temporary detached git worktree at `commit`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as parent:
        path = Path(parent) / commit[:12]
        _git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            yield path
        finally:
            with contextlib.suppress(BenchError):
                _git(repo, "worktree", "remove", "--force", str(path))
            with contextlib.suppress(BenchError):
                _git(repo, "worktree", "prune")


@contextlib.contextmanager
def run_folder(harness: Path, engine: Path) -> Iterator[Path]:
    """A temporary folder where `python -m bench` finds `harness`'s bench and `engine`'s cascade.

    The worker's current directory comes first on sys.path, before any installed copy.
    """
    for source, package in ((harness, HARNESS), (engine, ENGINE)):
        if not (source / package / "__init__.py").is_file():
            raise BenchError(f"{source} has no {package}/ package: is it this project?")
    with tempfile.TemporaryDirectory(prefix="bench-gate-run-") as folder:
        (Path(folder) / HARNESS).symlink_to((harness / HARNESS).resolve(), target_is_directory=True)
        (Path(folder) / ENGINE).symlink_to((engine / ENGINE).resolve(), target_is_directory=True)
        yield Path(folder)


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"git {args[0]} failed: {error}") from None
    if done.returncode != 0:
        reason = done.stderr.strip() or f"exit status {done.returncode}"
        raise BenchError(f"git {' '.join(args)}: {reason}")
    return done.stdout.strip()
