"""LocalExecutor: run one task call in the current event loop."""

from __future__ import annotations

from typing import Any, ClassVar

from cascade.spec.task import Task


class LocalExecutor:
    """Awaits async task functions and calls sync ones directly on the loop's thread."""

    bypassable: ClassVar[bool] = True
    """Whether the engine may call a task itself instead of through `execute` (when nobody
    observes task executions): a coroutine less per call. True here, where `execute` does
    nothing more; a subclass that overrides `execute` is always used, unless it says True."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "execute" in vars(cls) and "bypassable" not in vars(cls):
            cls.bypassable = False

    async def execute(self, task: Task, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Call `task` with resolved arguments and return its result."""
        if task.is_async:
            return await task.func(*args, **kwargs)
        return task.func(*args, **kwargs)
