"""Task: a function whose calls are recorded as LazyResults instead of being run."""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from cascade.errors import DefinitionError
from cascade.spec.lazy import LazyResult, MappedLazyResult
from cascade.spec.param import Param
from cascade.spec.resource import injected_parameters

_MAX_SHAPES = 64  # call shapes remembered per task; more (odd **kwargs use) are re-checked


class Task:
    """A sync or async function turned into a workflow step; calling it returns a LazyResult."""

    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        if not callable(func):
            raise DefinitionError(f"@task needs a function, got {func!r}")
        functools.update_wrapper(self, func)
        self.func = func
        self.name = name or func.__name__
        self.is_async = inspect.iscoroutinefunction(func)
        self.signature = inspect.signature(func)
        # Parameter name -> (position, resource name) for `param=cs.inject(...)` defaults.
        names = list(self.signature.parameters)
        self.injected = {p: (names.index(p), r) for p, r in injected_parameters(func).items()}
        # Whether a call binds depends only on how many positional arguments it has and
        # which keywords: shapes that bound once need no Signature.bind (slow) again.
        self._bound_shapes: set[Any] = set()
        self._left_by_count: dict[int, tuple[tuple[str, str], ...]] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> LazyResult:
        shape = (len(args), *kwargs) if kwargs else len(args)
        if shape not in self._bound_shapes:
            self._check_binding(args, kwargs)
            if len(self._bound_shapes) < _MAX_SHAPES:
                self._bound_shapes.add(shape)
        return LazyResult(self, args, kwargs)

    def injections_left(self, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """(parameter, resource) of each `cs.inject` default a call leaves for the engine.

        Remembered per number of positional arguments when there are no keywords (the
        engine asks once per call, every generation).
        """
        if kwargs:
            return self._left(len(args), kwargs)
        found = self._left_by_count.get(len(args))
        if found is None:
            found = self._left_by_count[len(args)] = self._left(len(args), kwargs)
        return found

    def _left(self, count: int, kwargs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (param, resource)
            for param, (position, resource) in self.injected.items()
            if position >= count and param not in kwargs
        )

    def map(self, **iterables: Any) -> MappedLazyResult:
        """Call the task once per position of the given iterables; the result is a list."""
        self._check_binding((), iterables)
        literal_lengths = {}
        for key, values in iterables.items():
            if isinstance(values, LazyResult):
                continue
            if not isinstance(values, Iterable) or isinstance(values, str | bytes):
                raise DefinitionError(
                    f"{self.name}.map(): {key}= must be an iterable or a LazyResult, got {values!r}"
                )
            iterables[key] = values = tuple(values)
            literal_lengths[key] = len(values)
        check_map_lengths(self.name, literal_lengths)
        return MappedLazyResult(self, (), iterables)

    def _check_binding(self, args: tuple, kwargs: dict[str, Any]) -> None:
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise DefinitionError(
                f"task {self.name!r} cannot be called like this: {exc} "
                f"(signature: {self.name}{self.signature})"
            ) from None

    def __repr__(self) -> str:
        return f"<Task {self.name}>"


def check_map_lengths(name: str, lengths: dict[str, int]) -> None:
    """Raise when the iterables of a `map()` call do not all have the same length."""
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise DefinitionError(f"{name}.map(): iterables have different lengths ({described})")


def task(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Turn a function into a Task; use as `@cs.task` or `@cs.task(name=...)`."""
    if func is None:
        return lambda fn: Task(fn, name)
    return Task(func, name)


async def _sleep(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


async def _sleep_checked(seconds: Any, source: str, name: str) -> float:
    # Seconds that another call (or a Param) gives are known only now.
    if _bad_seconds(seconds):
        raise DefinitionError(
            f"wait() needs a non-negative number of seconds from {source} {name!r}, "
            f"got {type(seconds).__name__} {seconds!r}"
        )
    await asyncio.sleep(seconds)
    return seconds


_wait_task = Task(_sleep, name="wait")
_wait_checked_task = Task(_sleep_checked, name="wait")


def wait(seconds: Any) -> LazyResult:
    """A task that sleeps `seconds` (a number or a LazyResult) on the event loop's clock.

    Refused: a negative number, nan, a bool, anything not a number; a LazyResult's or a
    Param's value is checked when the wait runs. `math.inf` is allowed, as asyncio allows
    it: the wait lasts until the run is cancelled.
    """
    kind = type(seconds)
    if (kind is float or kind is int) and seconds >= 0:  # the usual case, checked cheapest
        return _wait_task(seconds)
    if isinstance(seconds, LazyResult):
        return _wait_checked_task(seconds, "task", seconds.task.name)
    if isinstance(seconds, Param):
        return _wait_checked_task(seconds, "Param", seconds.name)
    if _bad_seconds(seconds):
        raise DefinitionError(
            f"wait() needs a non-negative number of seconds, got {kind.__name__} {seconds!r}"
        )
    return _wait_task(seconds)


def _bad_seconds(seconds: Any) -> bool:
    """Not a number of seconds >= 0: a bool (True is not 1 s), nan, negative, not a number."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        return True
    return math.isnan(seconds) or seconds < 0
