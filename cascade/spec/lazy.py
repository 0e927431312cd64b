"""LazyResult: a recorded task call that has not run yet, plus its per-call options."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from cascade.errors import DefinitionError

if TYPE_CHECKING:
    from cascade.spec.task import Task

# A process-wide counter gives every lazy value a cheap, unique node id.
_next_id = itertools.count(1).__next__


def new_id() -> int:
    """Return a fresh id for a node-like spec object (LazyResult, Param)."""
    return _next_id()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a task is attempted and how long to wait between attempts."""

    max_attempts: int
    delay: float = 0.0
    backoff: float = 1.0


class LazyResult:
    """The future result of one task call; pass it to other task calls to build a graph.

    The option methods (`run_if`, `with_retry`, `with_constraints`) configure this call
    in place and return it, so they chain.
    """

    __slots__ = ("_id", "args", "condition", "constraints", "kwargs", "retry", "task")

    def __init__(self, task: Task, args: tuple, kwargs: dict[str, Any]) -> None:
        self._id = new_id()
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.condition: LazyResult | None = None
        self.retry: RetryPolicy | None = None
        self.constraints: Mapping[str, Any] | None = None

    @property
    def id(self) -> int:
        """The node id this call gets in a graph."""
        return self._id

    def run_if(self, condition: LazyResult) -> Self:
        """Run only when `condition`'s result is truthy; otherwise skip (and skip dependants)."""
        if not isinstance(condition, LazyResult):
            raise DefinitionError(
                f"run_if() of task {self.task.name!r} needs a LazyResult (the result of "
                f"calling a task), got {type(condition).__name__} {condition!r}"
            )
        self.condition = condition
        return self

    def with_retry(self, max_attempts: int, delay: float = 0.0, backoff: float = 1.0) -> Self:
        """Try the task up to `max_attempts` times, waiting `delay` (times `backoff` each retry)."""
        problem = _retry_problem(max_attempts, delay, backoff)
        if problem:
            raise DefinitionError(f"with_retry() of task {self.task.name!r}: {problem}")
        self.retry = RetryPolicy(max_attempts, float(delay), float(backoff))
        return self

    def with_constraints(self, **requirements: Any) -> Self:
        """Require system resources (e.g. `cpu_slot=1`) while the task runs.

        A value is a non-negative number or a LazyResult that produces one.
        """
        for name, amount in requirements.items():
            if isinstance(amount, LazyResult):
                continue
            if not isinstance(amount, numbers.Real) or isinstance(amount, bool) or amount < 0:
                raise DefinitionError(
                    f"with_constraints() of task {self.task.name!r}: {name}={amount!r} must be "
                    "a non-negative number or a LazyResult"
                )
        self.constraints = dict(requirements) or None
        return self

    def __repr__(self) -> str:
        return f"<LazyResult {self.task.name} #{self._id}>"


def _retry_problem(max_attempts: Any, delay: Any, backoff: Any) -> str | None:
    """What is wrong with with_retry()'s options, or None. A bool is no count or number."""
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        return f"max_attempts must be an int >= 1, got {_shown(max_attempts)}"
    if not _is_number(delay) or not 0 <= delay < math.inf:
        return f"delay must be a finite number of seconds >= 0, got {_shown(delay)}"
    if not _is_number(backoff) or not 1 <= backoff < math.inf:
        return f"backoff must be a finite number >= 1, got {_shown(backoff)}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


class MappedLazyResult(LazyResult):
    """The future list of results of calling a task once per element of its iterables."""

    __slots__ = ()
