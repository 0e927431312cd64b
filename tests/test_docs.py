"""The documentation holds together: links resolve, shown commands exist, the README stays short.

Links follow GitHub's rules: relative to the file, an `#anchor` names a heading by its
slug (lowercase, spaces to hyphens, punctuation dropped, `-1`, `-2` for repeats). Commands
are read from code only (fenced blocks and inline code), never from prose.
"""

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import typer.main

from bench.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINKED = [README, *DOCS, ROOT / "results" / "README.md", ROOT / "results" / "fast-path.md"]
README_MAX_LINES = 250

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...
_TARGET = re.compile(r"^[a-z][a-z0-9_-]*$")
_SHELL_END = {";", "&&", "||", "|", "#", "\\"}


def _split(text: str) -> tuple[list[str], list[str]]:
    """(prose lines, code lines) of a Markdown text: fenced blocks are code."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return prose, code


def _inline_code(lines: list[str]) -> list[str]:
    return [match.group(2) for line in lines for match in _INLINE_CODE.finditer(line)]


def _without_code(line: str) -> str:
    return _INLINE_CODE.sub("", line)


def links(path: Path) -> list[str]:
    """Every link target of a Markdown file, outside code."""
    prose, _ = _split(path.read_text(encoding="utf-8"))
    found = []
    for line in map(_without_code, prose):
        found += [match.group(1) for match in _LINK.finditer(line)]
        reference = _REFERENCE.match(line)
        if reference:
            found.append(reference.group(1))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = _INLINE_CODE.sub(r"\2", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w keeps letters, digits and "_", as GitHub does
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every heading anchor of a Markdown file, repeats numbered as GitHub numbers them."""
    prose, _ = _split(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for line in prose:
        heading = _HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def broken(path: Path, target: str) -> str | None:
    """Why a link target does not resolve from `path`, or None when it does."""
    if _EXTERNAL.match(target):
        return None
    file_part, _, anchor = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    if not linked.exists():
        return f"{target}: no such file"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return f"{target}: no heading #{anchor} in {_shown(linked)}"
    return None


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False)
    except ValueError:  # an unbalanced quote in a fragment: whitespace is good enough
        return line.split()


def shown_commands(path: Path) -> tuple[set[str], set[str]]:
    """(bench commands, make targets) that the code of a Markdown file shows."""
    prose, code = _split(path.read_text(encoding="utf-8"))
    commands, targets = set(), set()
    for line in code + _inline_code(prose):
        words = _words(line)
        for i, word in enumerate(words):
            rest = words[i + 1 :]
            if word == "bench" and (i == 0 or words[i - 1] != "make") and rest:
                if _TARGET.match(rest[0]):
                    commands.add(rest[0])
            elif word == "make":
                target = _first_target(rest)
                if target:
                    targets.add(target)
    return commands, targets


def _first_target(words: list[str]) -> str | None:
    """The first target of a `make` command line: not an assignment, not an option."""
    for word in words:
        if word in _SHELL_END:
            return None
        if "=" in word or word.startswith("-"):
            continue
        return word if _TARGET.match(word) else None
    return None


def cli_commands() -> set[str]:
    """The commands registered on `python -m bench`'s typer app."""
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def make_targets() -> set[str]:
    """The targets the Makefile defines (rules, not variable assignments)."""
    targets = set()
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        rule = re.match(r"^([A-Za-z0-9_.\- ]+?)\s*:(?![=:])", line)
        if rule:
            targets.update(name for name in rule.group(1).split() if not name.startswith("."))
    return targets


@pytest.mark.parametrize("path", LINKED, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    problems = [problem for target in links(path) if (problem := broken(path, target))]
    assert problems == []


def test_the_readme_links_to_every_guide():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    assert [doc.name for doc in DOCS if doc.resolve() not in linked] == []


def test_every_bench_command_the_readme_shows_exists():
    shown, _ = shown_commands(README)
    assert shown, "the README shows no `python -m bench <command>`"
    assert sorted(shown - cli_commands()) == []


def test_every_make_target_the_readme_shows_exists():
    _, shown = shown_commands(README)
    assert {"bench", "test"} <= shown, "`make bench` and `make test` must stay in the README"
    assert sorted(shown - make_targets()) == []


def test_the_guides_show_only_commands_and_targets_that_exist():
    commands, targets = set(), set()
    for doc in DOCS:
        shown_by_doc = shown_commands(doc)
        commands |= shown_by_doc[0]
        targets |= shown_by_doc[1]
    assert sorted(commands - cli_commands()) == []
    assert sorted(targets - make_targets()) == []


def test_the_readme_stays_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


# The checker itself, on text whose answer is known.


def test_slug_follows_githubs_rules():
    assert slug("The benchmark suite (`make bench`)") == "the-benchmark-suite-make-bench"
    assert slug("Micro-benchmarks (pytest-benchmark)") == "micro-benchmarks-pytest-benchmark"
    assert slug("Does the gate work? (`--validate`)") == "does-the-gate-work---validate"
    assert slug("`per_agent` and [the docs](x.md)") == "per_agent-and-the-docs"


def test_anchors_number_repeated_headings(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Notes\n\n```\n# not a heading\n```\n\n## Notes\n", encoding="utf-8")
    assert anchors(page) == {"notes", "notes-1"}


def test_a_missing_file_or_heading_is_reported(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Here\n", encoding="utf-8")
    assert broken(page, "#here") is None
    assert broken(page, "https://example.org/#nowhere") is None
    assert broken(page, "gone.md") == "gone.md: no such file"
    assert broken(page, "page.md#there").startswith("page.md#there: no heading #there")


def test_commands_are_read_from_code_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Run `make bench BENCH_PROFILE=quick` or `python -m bench report`; make sure of it.\n\n"
        "```bash\nPYTHON=python3 make test  # comment\n"
        ".venv/bin/python -m bench gate --help\n```\n",
        encoding="utf-8",
    )
    assert shown_commands(page) == ({"report", "gate"}, {"bench", "test"})
