"""ConstraintManager: engine-wide policies (pause, concurrency, rate limit) that gate tasks.

Constraints are set in code with `update()`/`remove()`, or — when the engine has a
connector — from retained messages on `cascade/constraints/#` (an empty payload clears).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cascade.connectors.base import is_empty_payload
from cascade.runtime.change_signal import ChangeSignal

log = logging.getLogger("cascade.constraints")
CONSTRAINT_TOPICS = "cascade/constraints/#"
Verdict = tuple[str, float | None] | None  # None = permitted; else (reason, retry after seconds)


@dataclass(frozen=True, slots=True)
class GlobalConstraint:
    """A policy `type` (a handler name) with `params`, for `scope` "global" or "task:<name>"."""

    id: str
    scope: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, task_name: str) -> bool:
        """True when this constraint gates tasks called `task_name`."""
        return self.scope == "global" or self.scope == f"task:{task_name}"


class ConstraintHandler(Protocol):
    """Decides for one constraint type whether a task may start now."""

    type: str

    def validate(self, constraint: GlobalConstraint) -> None: ...
    def check(self, constraint: GlobalConstraint, now: float) -> Verdict: ...
    def on_acquire(self, constraint: GlobalConstraint, now: float) -> None: ...
    def on_release(self, constraint: GlobalConstraint) -> None: ...


class PauseHandler:
    """`pause`: nothing in scope starts until the constraint is removed."""

    type = "pause"

    def validate(self, constraint: GlobalConstraint) -> None:
        """A pause takes no params."""

    def check(self, constraint: GlobalConstraint, now: float) -> Verdict:
        """Always blocked, until removal wakes the waiters."""
        return f"paused by constraint {constraint.id!r}", None

    def on_acquire(self, constraint: GlobalConstraint, now: float) -> None:
        """Nothing to count."""

    def on_release(self, constraint: GlobalConstraint) -> None:
        """Nothing to count."""


class ConcurrencyHandler:
    """`concurrency` (params: `limit`): at most `limit` tasks in scope run at once."""

    type = "concurrency"

    def __init__(self) -> None:
        self._running: dict[str, int] = {}

    def validate(self, constraint: GlobalConstraint) -> None:
        """`limit` must be an int >= 1."""
        limit = constraint.params.get("limit")
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"concurrency constraint needs params.limit >= 1, got {limit!r}")

    def check(self, constraint: GlobalConstraint, now: float) -> Verdict:
        """Blocked while the limit is reached."""
        limit = constraint.params["limit"]
        if self._running.get(constraint.id, 0) >= limit:
            return f"concurrency limit {limit} reached (constraint {constraint.id!r})", None
        return None

    def on_acquire(self, constraint: GlobalConstraint, now: float) -> None:
        """Count one more running task."""
        self._running[constraint.id] = self._running.get(constraint.id, 0) + 1

    def on_release(self, constraint: GlobalConstraint) -> None:
        """Count one fewer running task."""
        left = self._running.get(constraint.id, 0) - 1
        if left > 0:
            self._running[constraint.id] = left
        else:
            self._running.pop(constraint.id, None)


class RateLimitHandler:
    """`rate_limit` (params: `rate` per second, optional `burst`): a token bucket per constraint."""

    type = "rate_limit"

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, at time)

    def validate(self, constraint: GlobalConstraint) -> None:
        """`rate` must be > 0 and `burst` >= 1."""
        rate = constraint.params.get("rate")
        burst = constraint.params.get("burst", 1)
        if not isinstance(rate, int | float) or rate <= 0 or not isinstance(burst, int | float):
            raise ValueError(f"rate_limit constraint needs params.rate > 0, got {rate!r}")
        if burst < 1:
            raise ValueError(f"rate_limit constraint needs params.burst >= 1, got {burst!r}")

    def check(self, constraint: GlobalConstraint, now: float) -> Verdict:
        """Blocked until a token has accumulated; says how long that takes."""
        tokens = self._tokens(constraint, now)
        if tokens >= 1:
            return None
        wait = (1 - tokens) / constraint.params["rate"]
        return f"rate limit {constraint.params['rate']}/s (constraint {constraint.id!r})", wait

    def on_acquire(self, constraint: GlobalConstraint, now: float) -> None:
        """Spend one token."""
        self._buckets[constraint.id] = (self._tokens(constraint, now) - 1, now)

    def on_release(self, constraint: GlobalConstraint) -> None:
        """Tokens are spent at start; nothing to give back."""

    def _tokens(self, constraint: GlobalConstraint, now: float) -> float:
        burst = constraint.params.get("burst", 1)
        tokens, then = self._buckets.get(constraint.id, (burst, now))
        return min(burst, tokens + (now - then) * constraint.params["rate"])


def default_handlers() -> list[ConstraintHandler]:
    """The handlers every engine starts with."""
    return [PauseHandler(), ConcurrencyHandler(), RateLimitHandler()]


Permit = tuple[GlobalConstraint, ...]


class ConstraintManager:
    """Holds the engine's constraints and makes tasks wait until all that apply permit them."""

    active: bool = False
    """True while at least one constraint is set (else admission is free): one attribute
    for hot paths, which ask before every task call."""

    def __init__(self, handlers: Iterable[ConstraintHandler] | None = None) -> None:
        handlers = default_handlers() if handlers is None else handlers
        self._handlers = {h.type: h for h in handlers}
        self._constraints: dict[str, GlobalConstraint] = {}
        self._by_topic: dict[str, str] = {}
        self._changed = ChangeSignal()
        self.active = False  # on the instance too: the quickest lookup there is

    def constraints(self) -> tuple[GlobalConstraint, ...]:
        """The constraints in force."""
        return tuple(self._constraints.values())

    def update(self, constraint: GlobalConstraint) -> None:
        """Add or replace (by id) a constraint; raise ValueError when it is invalid."""
        handler = self._handlers.get(constraint.type)
        if handler is None:
            raise ValueError(
                f"unknown constraint type {constraint.type!r}: valid types are "
                f"{sorted(self._handlers)}"
            )
        if constraint.scope != "global" and not constraint.scope.startswith("task:"):
            raise ValueError(
                f"constraint scope must be 'global' or 'task:<name>', got {constraint.scope!r}"
            )
        handler.validate(constraint)
        self._constraints[constraint.id] = constraint
        self.active = True
        self._changed.notify()

    def remove(self, constraint_id: str) -> None:
        """Drop a constraint (no error when absent) and wake the tasks it held back."""
        if self._constraints.pop(constraint_id, None) is not None:
            self.active = bool(self._constraints)
            self._changed.notify()

    async def acquire(self, task_name: str, on_blocked: Callable[[str], None]) -> Permit:
        """Wait until every applicable constraint permits `task_name`; `on_blocked` told once."""
        told = False
        while True:
            loop_now = asyncio.get_running_loop().time()
            applicable = tuple(c for c in self._constraints.values() if c.applies_to(task_name))
            verdict = self._first_block(applicable, loop_now)
            if verdict is None:
                for constraint in applicable:
                    self._handlers[constraint.type].on_acquire(constraint, loop_now)
                return applicable
            if not told:
                on_blocked(verdict[0])
                told = True
            await self._changed.wait(verdict[1])

    def release(self, permit: Permit) -> None:
        """End a task's admission: give back what its constraints counted."""
        for constraint in permit:
            self._handlers[constraint.type].on_release(constraint)
        if permit:
            self._changed.notify()

    def apply_message(self, topic: str, payload: Any) -> None:
        """Apply a message from `cascade/constraints/#`; bad payloads are logged and ignored."""
        if is_empty_payload(payload):
            constraint_id = self._by_topic.pop(topic, None)
            if constraint_id is not None:
                self.remove(constraint_id)
            return
        try:
            constraint = constraint_from_payload(topic, payload)
            self.update(constraint)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring constraint message on %r: %s", topic, exc)
            return
        self._by_topic[topic] = constraint.id

    def forget_messages(self) -> None:
        """Drop every constraint that a message set (e.g. when the connection closes)."""
        for topic in list(self._by_topic):
            self.apply_message(topic, None)

    def _first_block(self, applicable: Permit, now: float) -> Verdict:
        for constraint in applicable:
            verdict = self._handlers[constraint.type].check(constraint, now)
            if verdict is not None:
                return verdict
        return None


def constraint_from_payload(topic: str, payload: Any) -> GlobalConstraint:
    """Parse `{"type", "scope"?, "params"?, "id"?}` (a dict or its JSON); id defaults to topic."""
    if isinstance(payload, bytes | str):
        payload = json.loads(payload)
    if not isinstance(payload, Mapping) or "type" not in payload:
        raise ValueError(f"expected a mapping with a 'type' key, got {payload!r}")
    return GlobalConstraint(
        id=str(payload.get("id", topic)),
        scope=str(payload.get("scope", "global")),
        type=str(payload["type"]),
        params=dict(payload.get("params", {})),
    )
