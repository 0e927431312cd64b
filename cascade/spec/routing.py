"""Router: pick one of several branches by the value of a selector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cascade.errors import DefinitionError, RoutingError
from cascade.spec.lazy import LazyResult
from cascade.spec.param import Param


class Router:
    """Used as a task argument: only `routes[selector_value]` runs, other branches are pruned."""

    __slots__ = ("routes", "selector")

    def __init__(self, selector: Any, routes: Mapping[Any, Any]) -> None:
        if not isinstance(routes, Mapping) or not routes:
            raise DefinitionError(
                f"Router needs a non-empty mapping of routes {{key: LazyResult}}, got {routes!r}"
            )
        if not isinstance(selector, LazyResult | Param):
            _check_literal(selector, routes)
        self.selector = selector
        self.routes = dict(routes)

    def __repr__(self) -> str:
        return f"Router({self.selector!r}, routes={list(self.routes)!r})"


def _check_literal(selector: Any, routes: Mapping[Any, Any]) -> None:
    """A literal selector is decided now: it must be one of the routes (so hashable)."""
    try:
        chosen = selector in routes
    except TypeError:  # unhashable: a list, a dict
        raise RoutingError(
            f"Router selector {selector!r} of unhashable type {type(selector).__name__!r} "
            f"cannot be one of its routes {list(routes)!r}"
        ) from None
    if not chosen:
        raise RoutingError(
            f"Router selector {selector!r} is not one of its routes {list(routes)!r}"
        )
