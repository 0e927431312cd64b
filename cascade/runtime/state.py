"""StateBackend: where one run keeps the results and skip reasons of its nodes."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class StateBackend(Protocol):
    """Results and skip reasons of ONE run; the engine makes a fresh one per `run()`."""

    run_id: str

    def put_result(self, node_id: int, value: Any) -> None: ...
    def get_result(self, node_id: int) -> Any: ...
    def has_result(self, node_id: int) -> bool: ...
    def mark_skipped(self, node_id: int, reason: str) -> None: ...
    def get_skip_reason(self, node_id: int) -> str | None: ...
    def clear(self) -> None: ...


class InMemoryStateBackend:
    """A StateBackend in two dicts; `clear()` drops a finished generation's state."""

    __slots__ = ("_results", "_skipped", "run_id")

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._results: dict[int, Any] = {}
        self._skipped: dict[int, str] = {}

    def put_result(self, node_id: int, value: Any) -> None:
        """Store a node's result."""
        self._results[node_id] = value

    def get_result(self, node_id: int) -> Any:
        """Return a node's result; KeyError when it has none."""
        return self._results[node_id]

    def has_result(self, node_id: int) -> bool:
        """True when the node produced a result."""
        return node_id in self._results

    def mark_skipped(self, node_id: int, reason: str) -> None:
        """Record that the node was skipped and why."""
        self._skipped[node_id] = reason

    def get_skip_reason(self, node_id: int) -> str | None:
        """Why the node was skipped, or None when it was not."""
        return self._skipped.get(node_id)

    def clear(self) -> None:
        """Forget everything (between generations of a tail-called workflow)."""
        self._results.clear()
        self._skipped.clear()
