"""LocalExecutor: run one task call in the current event loop."""

from __future__ import annotations

from typing import Any

from cascade.spec.task import Task


class LocalExecutor:
    """Awaits async task functions and calls sync ones directly on the loop's thread."""

    async def execute(self, task: Task, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Call `task` with resolved arguments and return its result."""
        if task.is_async:
            return await task.func(*args, **kwargs)
        return task.func(*args, **kwargs)
