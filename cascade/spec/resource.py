"""Resources: generator-defined values (connections, clients) injected into tasks."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cascade.errors import DefinitionError

Scope = Literal["run", "task"]
SCOPES: tuple[Scope, ...] = ("run", "task")


@dataclass(frozen=True, slots=True)
class Inject:
    """A placeholder for the value of the registered resource `name`."""

    name: str


def inject(name: str) -> Any:
    """Ask for resource `name`, as a task argument or as a parameter default."""
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"inject() needs a resource name, got {name!r}")
    return Inject(name)


def injected_parameters(func: Callable) -> dict[str, str]:
    """Map the parameters of `func` whose default is `inject(...)` to resource names."""
    params = inspect.signature(func).parameters.values()
    return {p.name: p.default.name for p in params if isinstance(p.default, Inject)}


@dataclass(frozen=True, slots=True)
class ResourceDefinition:
    """A named generator function: code before `yield` sets up, code after tears down."""

    func: Callable[..., Any]
    name: str
    scope: Scope
    dependencies: dict[str, str]
    is_async: bool


def resource(
    func: Callable[..., Any] | None = None, *, name: str | None = None, scope: Scope = "run"
) -> Any:
    """Declare a resource; use as `@cs.resource` or `@cs.resource(name=..., scope=...)`."""

    def wrap(fn: Callable[..., Any]) -> ResourceDefinition:
        return _define(fn, name or fn.__name__, scope)

    return wrap(func) if func is not None else wrap


def _define(func: Callable[..., Any], name: str, scope: str) -> ResourceDefinition:
    if scope not in SCOPES:
        raise DefinitionError(f"resource {name!r}: scope must be one of {SCOPES}, got {scope!r}")
    is_async = inspect.isasyncgenfunction(func)
    if not (is_async or inspect.isgeneratorfunction(func)):
        raise DefinitionError(
            f"resource {name!r} must be a generator function: set up, `yield` the value, "
            "then tear down"
        )
    return ResourceDefinition(func, name, scope, injected_parameters(func), is_async)
