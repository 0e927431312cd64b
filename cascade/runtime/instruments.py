"""Instruments: hooks an engine calls as its runs go, for tools that observe or perturb them.

Modelled on trio's instruments. The hooks of `Instrument` do nothing; an instrument
overrides the ones it needs, and only those are called. With none registered, a hook
point costs the engine one truth test. A hook that raises is logged and its instrument
removed: an instrument never fails a run.

An instrument is registered on one engine or on every engine of the process at once (see
`add_instrument`). Each engine with instruments of its own keeps an `Instruments` whose
parent is the process-wide one, and is refreshed when that changes; every other engine
uses the process-wide one itself, so an engine costs nothing more to make.
"""

from __future__ import annotations

import logging
import types
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cascade.runtime.engine import Engine
    from cascade.spec.lazy import LazyResult

log = logging.getLogger("cascade.instruments")


class Instrument:
    """Base class of instruments: every hook does nothing; override those you need.

    Register one for an engine (`Engine(instruments=[...])`, `engine.add_instrument`) or
    for every engine of the process (`cascade.add_instrument`). Hooks are called
    synchronously on the run's event loop, in the order the instruments were registered
    (process-wide ones first), so they should be quick; one that raises an Exception is
    logged and its instrument removed. `run_id` is the run's id in events ("run-7"); a
    generation's number counts from 1.
    """

    def run_started(self, engine: Engine, run_id: str, target: LazyResult) -> None:
        """A run started: counted in, before its first generation."""

    def before_generation(
        self, engine: Engine, run_id: str, generation: int, target: LazyResult
    ) -> None:
        """The run's generation number `generation`, which runs `target`, starts."""

    def after_generation(self, engine: Engine, run_id: str, generation: int, result: Any) -> None:
        """Generation `generation` ended with `result`: a LazyResult to tail-call, or the
        run's value. Not called when the generation raises (`run_finished` says it)."""

    def run_finished(
        self, engine: Engine, run_id: str, status: str, error: BaseException | None
    ) -> None:
        """A run ended: `status` is "succeeded", "failed" or "cancelled", `error` what
        ended it when it did not succeed."""


HOOKS = ("run_started", "before_generation", "after_generation", "run_finished")
"""The names of Instrument's hooks."""

Hook = Callable[..., None]


class Instruments(dict[str, tuple[tuple[Instrument, Hook], ...]]):
    """The instruments of one engine, or of the process: hook name -> (instrument, bound
    hook) pairs of the instruments that override it. Only overridden hooks are keys, so
    the dict is empty, and false, while nothing is registered that has a hook to call."""

    __slots__ = ("__weakref__", "_children", "_own", "_parent")

    def __init__(
        self, instruments: Iterable[Instrument] = (), parent: Instruments | None = None
    ) -> None:
        super().__init__()
        self._own: dict[Instrument, None] = {}
        self._parent = parent
        # Children by id (a dict is not hashable), each gone with its engine.
        self._children: dict[int, weakref.ref[Instruments]] = {}
        if parent is not None:
            key = id(self)
            parent._children[key] = weakref.ref(self, lambda _: parent._children.pop(key, None))
        for instrument in instruments:
            self.add(instrument)
        self._refresh()

    def add(self, instrument: Instrument) -> None:
        """Start calling `instrument`'s hooks (nothing happens when it is registered here)."""
        if not isinstance(instrument, Instrument):
            raise TypeError(f"an instrument must be a cascade.Instrument, got {instrument!r}")
        if instrument not in self._own:
            self._own[instrument] = None
            self._refresh()

    def remove(self, instrument: Instrument) -> None:
        """Stop calling `instrument`'s hooks; KeyError when it is not registered here (or a
        hook of it raised, which removed it)."""
        if instrument not in self._own:
            raise KeyError(f"{instrument!r} is not registered here")
        del self._own[instrument]
        self._refresh()

    def registered(self) -> tuple[Instrument, ...]:
        """The instruments registered here, in the order they were added."""
        return tuple(self._own)

    def call(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every instrument that overrides it; one that raises is
        logged and removed from where it was registered, and the others are still called."""
        for instrument, method in self.get(hook, ()):
            try:
                method(*args)
            except Exception:
                log.exception("instrument %r raised in %s(); it is removed", instrument, hook)
                self._discard(instrument)

    def _discard(self, instrument: Instrument) -> None:
        """Remove `instrument` here and from the parents where it is registered."""
        owner: Instruments | None = self
        while owner is not None:
            if instrument in owner._own:
                owner.remove(instrument)
            owner = owner._parent

    def _everyone(self) -> dict[Instrument, None]:
        """The parent's instruments, then this one's, each once."""
        everyone = {} if self._parent is None else self._parent._everyone()
        everyone.update(self._own)
        return everyone

    def _refresh(self) -> None:
        hooks: dict[str, list[tuple[Instrument, Hook]]] = {}
        for instrument in self._everyone():
            for name in HOOKS:
                method = getattr(instrument, name)
                inherited = isinstance(method, types.MethodType) and method.__func__ is getattr(
                    Instrument, name
                )
                if not inherited:
                    hooks.setdefault(name, []).append((instrument, method))
        self.clear()
        self.update((name, tuple(pairs)) for name, pairs in hooks.items())
        for ref in list(self._children.values()):
            child = ref()
            if child is not None:
                child._refresh()


PROCESS = Instruments()
"""The process-wide instruments: every engine calls them (see `add_instrument`)."""


def add_instrument(instrument: Instrument) -> None:
    """Register `instrument` on every engine of the process, those made later included."""
    PROCESS.add(instrument)


def remove_instrument(instrument: Instrument) -> None:
    """Undo `add_instrument`; KeyError when `instrument` is not registered process-wide."""
    PROCESS.remove(instrument)
