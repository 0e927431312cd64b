"""Resolvers: turn a node's recorded arguments and requirements into concrete values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cascade.errors import DefinitionError
from cascade.graph.model import Node
from cascade.runtime.state import StateBackend
from cascade.spec.lazy import LazyResult
from cascade.spec.param import Param
from cascade.spec.resource import Inject
from cascade.spec.routing import Router
from cascade.spec.task import check_map_lengths


class ArgumentResolver:
    """Replaces LazyResults, Params, Routers and injections in a call's arguments by values."""

    def resolve(
        self, node: Node, state: StateBackend, resources: Mapping[str, Any]
    ) -> tuple[tuple, dict[str, Any]]:
        """Return `(args, kwargs)` ready for the task function of `node`."""
        lazy: LazyResult = node.spec
        dynamic = node.dynamic_args
        args = lazy.args
        kwargs = dict(lazy.kwargs)
        if dynamic:
            args = tuple(
                _value(a, state, resources) if i in dynamic else a for i, a in enumerate(args)
            )
            for key, value in kwargs.items():
                if key in dynamic:
                    kwargs[key] = _value(value, state, resources)
        for param, (position, resource) in lazy.task.injected.items():
            if position >= len(args) and param not in kwargs:
                kwargs[param] = resources[resource]
        return args, kwargs

    def resolve_map(
        self, node: Node, state: StateBackend, resources: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Return one kwargs dict per element of a `map()` call's iterables."""
        lazy: LazyResult = node.spec
        dynamic = node.dynamic_args
        columns = {
            k: list(_value(v, state, resources) if k in dynamic else v)
            for k, v in lazy.kwargs.items()
        }
        check_map_lengths(node.name, {k: len(v) for k, v in columns.items()})
        extra = {p: resources[r] for p, (_, r) in lazy.task.injected.items() if p not in columns}
        rows = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
        return [row | extra for row in rows]


class ConstraintResolver:
    """Resolves a call's `with_constraints(...)` into plain numbers."""

    def resolve(self, node: Node, state: StateBackend) -> dict[str, float]:
        """Requirements of `node`; LazyResult amounts are read from the run's state."""
        requirements = node.spec.constraints
        if not requirements:
            return {}
        resolved = {k: _value(v, state, {}) for k, v in requirements.items()}
        for name, amount in resolved.items():
            if not isinstance(amount, int | float) or amount < 0:
                raise DefinitionError(
                    f"task {node.name!r}: constraint {name}={amount!r} must be a number >= 0"
                )
        return resolved


def _value(value: Any, state: StateBackend, resources: Mapping[str, Any]) -> Any:
    if isinstance(value, LazyResult | Param):
        return state.get_result(value._id)
    if isinstance(value, Inject):
        return resources[value.name]
    if isinstance(value, Router):
        key = _value(value.selector, state, resources)
        return _value(value.routes[key], state, resources)
    if isinstance(value, list | tuple):
        items = [_value(v, state, resources) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _value(v, state, resources) for k, v in value.items()}
    return value
