"""Param: a named run input, filled from `engine.run(target, params={...})`."""

from __future__ import annotations

from typing import Any

from cascade.spec.lazy import new_id

_MISSING: Any = object()


class Param:
    """A named value supplied when the workflow runs; `default` is used when it is not given."""

    __slots__ = ("_id", "default", "description", "name")

    def __init__(self, name: str, default: Any = _MISSING, description: str = "") -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Param name must be a non-empty string, got {name!r}")
        self._id = new_id()
        self.name = name
        self.default = default
        self.description = description

    @property
    def id(self) -> int:
        """The node id this param gets in a graph."""
        return self._id

    @property
    def required(self) -> bool:
        """True when the param has no default and must be given to `run()`."""
        return self.default is _MISSING

    def __repr__(self) -> str:
        return f"Param({self.name!r})"
