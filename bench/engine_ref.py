"""`bench run --engine REF`: this harness driving another commit's engine, as the gate does.

The commit is checked out in a temporary git worktree, and the same `bench run` command
(without `--engine`) runs in a fresh process from a folder that links this checkout's
`bench/` with that commit's `cascade/`. The result names the engine it ran
(`meta.engine`). This is how the seed's "before" picture is taken again with today's probes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.gate.sides import checked_out, repo_root, resolve, run_folder
from bench.result_file import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]


def without_engine(argv: Sequence[str], out: Path) -> list[str]:
    """`argv` without `--engine REF` (or `--engine=REF`), with `--out` made absolute (pure)."""
    kept: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--engine":
            next(words, None)
        elif word.startswith("--engine="):
            continue
        elif word == "--out":
            next(words, None)
        elif not word.startswith("--out="):
            kept.append(word)
    return [*kept, "--out", str(out.resolve())]


def run_with_engine(ref: str, argv: Sequence[str] | None, out: Path) -> int:
    """Run `bench` with `argv` (minus --engine; this process's own arguments when None) on
    `ref`'s engine; stamp `meta.engine`."""
    argv = sys.argv[1:] if argv is None else argv
    repo = repo_root(ROOT)
    commit = resolve(repo, ref)
    with checked_out(repo, commit) as tree, run_folder(ROOT, tree) as folder:
        command = [sys.executable, "-m", "bench", *without_engine(argv, out)]
        status = subprocess.run(command, cwd=folder, check=False).returncode
    if out.is_file():
        document = json.loads(out.read_text(encoding="utf-8"))
        document.setdefault("meta", {})["engine"] = {"ref": ref, "commit": commit}
        write_json_atomic(out, document)
    return status
