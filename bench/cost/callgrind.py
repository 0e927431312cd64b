"""callgrind.out files: per-function instruction counts, per-generation figures, movers (pure).

The format (valgrind's "Callgrind Format Specification"): `fn=` starts the cost lines of a
function, `cfn=`/`calls=` announce a call whose (inclusive) cost is the one cost line that
follows, every other cost line is the current function's own (self) cost. Names may be
compressed: `(12) name` defines id 12, a later `(12)` alone means the same name; `fn` and
`cfn` share one table, `fl`/`fi`/`fe`/`cfi`/`cfl` another, `ob`/`cob` a third. A cost line
is the position(s) (`positions:` says how many; `+n`/`-n`/`*` are relative) then one number
per event of `events:`; only the first event (Ir, instructions executed) is kept here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_NAMED = re.compile(r"\((\d+)\)(?:\s(.*))?$")
_RECURSION = re.compile(r"'\d+$")  # callgrind's name'2: a deeper level of recursion
_FN_KEYS = ("fn", "cfn", "cfunc")  # cfunc: an old alias of cfn
_FILE_KEYS = ("fl", "fi", "fe", "cfi", "cfl", "cfile")
_OB_KEYS = ("ob", "cob")


@dataclass
class Profile:
    """One callgrind output: total instructions and, per function name, self and inclusive."""

    total: int = 0
    self_cost: dict[str, int] = field(default_factory=dict)
    inclusive: dict[str, int] = field(default_factory=dict)


class CallgrindFormatError(ValueError):
    """The text is not a callgrind profile this parser understands."""


def parse_callgrind(lines: Iterable[str]) -> Profile:
    """Parse the text of a callgrind.out file (its lines) into a Profile.

    Recursion levels (`name'2`, from --separate-recs) are merged into `name`. Inclusive
    cost is self cost plus the cost of the calls the function made to OTHER functions: a
    direct self-call is not counted twice, but mutual recursion (the interpreter's eval loop
    calling itself through other C functions) still is, so inclusive figures of such
    functions can exceed the total; self costs always add up to it.
    """
    names: dict[str, dict[str, str]] = {"fn": {}, "file": {}, "ob": {}}
    profile = Profile()
    positions = 1
    current: str | None = None
    callee: str | None = None
    call_pending = False
    totals: int | None = None
    summary: int | None = None
    saw_events = False
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line[0]
        if head.isdigit() or head in "+-*":
            if current is None:
                raise CallgrindFormatError(f"line {number}: a cost line before any fn=")
            cost = _first_event(line, positions, number)
            if call_pending:
                if callee != current:
                    profile.inclusive[current] = profile.inclusive.get(current, 0) + cost
                call_pending = False
            else:
                profile.self_cost[current] = profile.self_cost.get(current, 0) + cost
                profile.inclusive[current] = profile.inclusive.get(current, 0) + cost
            continue
        key, sep, value = line.partition("=")
        if sep and " " not in key and ":" not in key:
            if key in _FN_KEYS:
                name = _RECURSION.sub("", _name(names["fn"], value, number))
                callee = name
                if key == "fn":
                    current = name
                    profile.self_cost.setdefault(name, 0)
                    profile.inclusive.setdefault(name, 0)
            elif key in _FILE_KEYS:
                _name(names["file"], value, number)
            elif key in _OB_KEYS:
                _name(names["ob"], value, number)
            elif key == "calls":
                call_pending = True
            continue  # jump=, jcnd= and others carry no cost line of their own
        key, sep, value = line.partition(":")
        if not sep:
            raise CallgrindFormatError(f"line {number}: cannot read {raw.rstrip()!r}")
        value = value.strip()
        if key == "positions":
            positions = len(value.split())
        elif key == "events":
            saw_events = True
            if value.split()[:1] != ["Ir"]:
                raise CallgrindFormatError(f"line {number}: the first event is not Ir: {value!r}")
        elif key == "totals":
            totals = (totals or 0) + _integer(value.split()[0], number)
        elif key == "summary":
            summary = _integer(value.split()[0], number)
    if not saw_events:
        raise CallgrindFormatError("no events: line; is this a callgrind.out file?")
    counted = sum(profile.self_cost.values())
    profile.total = totals if totals is not None else summary if summary is not None else counted
    return profile


def _name(table: dict[str, str], value: str, number: int) -> str:
    match = _NAMED.match(value.strip())
    if match is None:
        return value.strip()
    ident, name = match.groups()
    if name is not None:
        table[ident] = name
        return name
    try:
        return table[ident]
    except KeyError:
        raise CallgrindFormatError(
            f"line {number}: name ({ident}) used before it is defined"
        ) from None


def _first_event(line: str, positions: int, number: int) -> int:
    words = line.split()
    if len(words) <= positions:
        return 0  # no events on this line: a cost of 0
    return _integer(words[positions], number)


def _integer(word: str, number: int) -> int:
    try:
        return int(word, 0) if word.startswith("0x") else int(word)
    except ValueError:
        raise CallgrindFormatError(f"line {number}: {word!r} is not a count") from None


@dataclass(frozen=True)
class FunctionCost:
    """One function's instructions per generation of the measured segment."""

    name: str
    self_per_generation: float
    inclusive_per_generation: float


def per_generation(profile: Profile, generations: int) -> list[FunctionCost]:
    """Each function's instructions in `profile` / `generations`, self and inclusive,
    largest self first (then by name, for a stable order)."""
    if generations <= 0:
        raise ValueError(f"no generations to divide by: {generations}")
    costs = [
        FunctionCost(name, own / generations, profile.inclusive.get(name, 0) / generations)
        for name, own in profile.self_cost.items()
    ]
    costs.sort(key=lambda cost: (-cost.self_per_generation, cost.name))
    return costs


@dataclass(frozen=True)
class Mover:
    """A function whose self instructions per generation changed from base to head."""

    name: str
    base: float
    head: float

    @property
    def change(self) -> float:
        """head - base, instructions per generation."""
        return self.head - self.base


def top_movers(base: Mapping[str, float], head: Mapping[str, float], n: int = 5) -> list[Mover]:
    """The `n` functions whose figure grew most from `base` to `head` (name -> instructions
    per generation; a function missing on one side counts 0 there), largest growth first.
    Functions that did not grow are left out."""
    names = set(base) | set(head)
    movers = [Mover(name, base.get(name, 0.0), head.get(name, 0.0)) for name in names]
    grown = [mover for mover in movers if mover.change > 0]
    grown.sort(key=lambda mover: (-mover.change, mover.name))
    return grown[:n]
