"""ResourceScope: sets up generator resources on demand and tears them down in reverse order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from cascade.errors import ResourceError, ResourceNotFoundError
from cascade.spec.resource import ResourceDefinition

log = logging.getLogger("cascade.resources")


class ResourceScope:
    """The live resources of one `run()` (scope "run") or of one task execution (scope "task").

    A task scope delegates run-scoped names to its parent, so they outlive the task.
    Leaving the scope tears down everything it set up, last first, also on failure.
    """

    # The first resource set up here lives in four slots, any later ones in a flat list
    # (name, value, definition, generator, ...). Not a dict and a list: a run's scope lives
    # as long as the run, usually holds one resource, and every container it keeps is one
    # more object per agent for the garbage collector to walk (see the bare mode).
    __slots__ = (
        "_definitions",
        "_first",
        "_first_definition",
        "_first_generator",
        "_first_value",
        "_more",
        "_parent",
        "_scope",
    )

    def __init__(
        self,
        definitions: Mapping[str, ResourceDefinition],
        scope: str = "run",
        parent: ResourceScope | None = None,
    ) -> None:
        self._definitions = definitions
        self._scope = scope
        self._parent = parent
        self._first: str | None = None
        self._first_value: Any = None
        self._first_definition: ResourceDefinition | None = None
        self._first_generator: Any = None
        self._more: list[Any] | None = None

    async def __aenter__(self) -> ResourceScope:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(exc)

    async def close(self, exc: BaseException | None) -> None:
        """Tear down what this scope set up; `exc` is the error the scope is left with, if any.

        A teardown failure is raised, unless the scope is left with an error already: then
        it is logged, and `exc` (the caller's to raise) is not replaced.
        """
        failure = await self._tear_down(self._take_opened())
        if failure is None:
            return
        if exc is None or not isinstance(failure, Exception):
            raise failure
        # The run already fails with `exc`; a teardown error must not replace it.
        log.error("resource teardown failed while handling %r", exc, exc_info=failure)

    def _take_opened(self) -> list[tuple[ResourceDefinition, Any]]:
        """(definition, generator) of everything set up here, in set-up order; forgotten."""
        opened = []
        if self._first_definition is not None:
            opened.append((self._first_definition, self._first_generator))
        more = self._more or []
        opened += [(more[index + 2], more[index + 3]) for index in range(0, len(more), 4)]
        self._first = self._first_value = self._first_definition = self._first_generator = None
        self._more = None
        return opened

    @staticmethod
    async def _tear_down(opened: list[tuple[ResourceDefinition, Any]]) -> BaseException | None:
        """Tear down every resource in `opened`, last first, each even when one before it
        failed; return the last failure (an earlier one is its __context__)."""
        failure: BaseException | None = None
        for definition, generator in reversed(opened):
            try:
                await _teardown(definition, generator)
            except BaseException as exc:  # a cancelled teardown must not skip the others
                if failure is not None and exc.__context__ is None:
                    exc.__context__ = failure
                failure = exc
        return failure

    def check(self, needed: Mapping[str, Iterable[str]]) -> None:
        """Raise ResourceNotFoundError for the first name (-> task names) not registered.

        The resources' own `inject` dependencies are checked too (ResourceError on a cycle).
        """
        for name, tasks in needed.items():
            if name not in self._definitions:
                raise ResourceNotFoundError(
                    f"resource {name!r} is required by task(s) {sorted(set(tasks))} but is not "
                    f"registered: call engine.register() with a @cs.resource named {name!r}"
                )
            self._check_dependencies(name, (name,))

    def _check_dependencies(self, name: str, path: tuple[str, ...]) -> None:
        for dependency in self._definitions[name].dependencies.values():
            if dependency in path:
                cycle = " -> ".join((*path[path.index(dependency) :], dependency))
                raise ResourceError(f"resources depend on each other in a cycle: {cycle}")
            if dependency not in self._definitions:
                raise ResourceNotFoundError(
                    f"resource {dependency!r} is required by resource {name!r} but is not "
                    f"registered: call engine.register() with a @cs.resource named {dependency!r}"
                )
            self._check_dependencies(dependency, (*path, dependency))

    def is_task_scoped(self, name: str) -> bool:
        """True when `name` must be set up per task execution."""
        return self._definitions[name].scope == "task"

    def ready(self, name: str) -> bool:
        """True when `name` is set up in this scope already (get() would not wait)."""
        return name == self._first or (self._more is not None and name in self._more[::4])

    def value(self, name: str) -> Any:
        """The value of a resource this scope has set up already (KeyError if not)."""
        if name == self._first:
            return self._first_value
        more = self._more or []
        for index in range(0, len(more), 4):
            if more[index] == name:
                return more[index + 1]
        raise KeyError(name)

    async def get(self, name: str) -> Any:
        """The value of resource `name`, set up now if this scope does not hold it yet."""
        if self.ready(name):
            return self.value(name)
        definition = self._definitions[name]
        if definition.scope == "run" and self._parent is not None:
            return await self._parent.get(name)
        if definition.scope == "task" and self._scope == "run":
            raise ResourceError(
                f"task-scoped resource {name!r} cannot be used by a run-scoped resource"
            )
        return await self._setup(name, definition)

    def can_set_up_now(self, name: str) -> bool:
        """Whether `name` is registered and nothing about setting it up needs awaiting: a
        plain generator of this scope, without dependencies (see `set_up_now`)."""
        definition = self._definitions.get(name)
        return (
            definition is not None
            and not definition.is_async
            and not definition.dependencies
            and definition.scope == self._scope
        )

    def set_up_now(self, name: str) -> None:
        """Set `name` up right away, without awaiting; only when `can_set_up_now(name)`."""
        definition = self._definitions[name]
        generator = definition.func()
        try:
            value = next(generator)
        except StopIteration:
            raise _no_value(definition) from None
        self._keep(name, value, definition, generator)

    def _keep(self, name: str, value: Any, definition: ResourceDefinition, generator: Any) -> None:
        if self._first is None:
            self._first, self._first_value = name, value
            self._first_definition, self._first_generator = definition, generator
        elif self._more is None:
            self._more = [name, value, definition, generator]
        else:
            self._more += (name, value, definition, generator)

    async def _setup(self, name: str, definition: ResourceDefinition) -> Any:
        dependencies = definition.dependencies
        if dependencies:
            kwargs = {p: await self.get(r) for p, r in dependencies.items()}
            generator = definition.func(**kwargs)
        else:  # the usual case, without an async comprehension's extra coroutine
            generator = definition.func()
        try:
            value = await anext(generator) if definition.is_async else next(generator)
        except (StopIteration, StopAsyncIteration):
            raise _no_value(definition) from None
        self._keep(name, value, definition, generator)
        return value


def _no_value(definition: ResourceDefinition) -> ResourceError:
    return ResourceError(
        f"resource {definition.name!r} did not yield a value: a @cs.resource function "
        "must yield exactly once (set-up before the yield, teardown after it)"
    )


async def _teardown(definition: ResourceDefinition, generator: Any) -> None:
    try:
        await anext(generator) if definition.is_async else next(generator)
    except (StopIteration, StopAsyncIteration):
        return
    raise ResourceError(
        f"resource {definition.name!r} yielded more than once: it must yield exactly once"
    )
