"""The events the engine publishes on its MessageBus: frozen records, one class per fact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all engine events; subscribe to it to receive every event."""

    run_id: str


@dataclass(frozen=True, slots=True)
class RunStarted(Event):
    """A `run()` began."""

    target_name: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RunFinished(Event):
    """A `run()` ended: "succeeded", "cancelled" or "failed" (then `error` is its repr)."""

    status: str
    duration: float
    generations: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent(Event):
    """Base of the events about one node of a run."""

    task_name: str
    node_id: int


@dataclass(frozen=True, slots=True)
class TaskExecutionStarted(TaskEvent):
    """An attempt at a task began."""

    attempt: int


@dataclass(frozen=True, slots=True)
class TaskExecutionFinished(TaskEvent):
    """An attempt at a task ended; `status` is "succeeded" or "failed"."""

    status: str
    duration: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSkipped(TaskEvent):
    """A node did not run; `reason` is one of the FlowManager's reason codes."""

    reason: str


@dataclass(frozen=True, slots=True)
class TaskRetrying(TaskEvent):
    """An attempt failed and another follows after `delay` seconds."""

    attempt: int
    delay: float
    error: str


@dataclass(frozen=True, slots=True)
class TaskBlocked(TaskEvent):
    """A task is ready but waits for a constraint or for system capacity."""

    reason: str


@dataclass(frozen=True, slots=True)
class ResourceAcquired(TaskEvent):
    """A task took system capacity (e.g. `cpu_slot`) before running."""

    resources: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class ResourceReleased(TaskEvent):
    """A task gave back the system capacity it held."""

    resources: Mapping[str, float]
