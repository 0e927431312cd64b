"""The common shape of a tail-call generation, recognised without building a graph.

Most generations are a short chain: `decide(..., action(...))`, each call taking at most
one other call's result as a direct argument. Such a generation has exactly one
solution (deepest call first), no skips, no routing and no fan-out, so the engine may run
it link by link without a Graph, a plan or a FlowManager. Anything else (params, routers,
conditions, maps, retries, constraints, injections or references inside containers, a
shared sub-result) is left to the general path, which handles every case.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cascade.runtime.resource_scope import ResourceScope
from cascade.spec.lazy import LazyResult
from cascade.spec.param import Param
from cascade.spec.resource import Inject
from cascade.spec.routing import Router

_NEEDS_GRAPH = (LazyResult, Param, Inject, Router, list, tuple, dict, set, frozenset)
"""Argument types that may hold a reference: only a direct LazyResult is a chain link."""

MAX_LINKS = 64
"""Longer chains take the general path (and keep its stack-free walk)."""

Slot = int | str | None
"""Position or keyword of the argument that takes the previous call's result (None for the
first call, which depends on no other call)."""


def chain_of(target: LazyResult, into: list[Any] | None = None) -> list[Any] | None:
    """The generation's calls in execution order (target last) when it is a chain, else None.

    The list is flat, `[call, slot, resources, call, slot, resources, ...]`, where
    `resources` are the call's `cs.inject` defaults left to the engine ((parameter,
    resource name) pairs). It is `into` (emptied first) when given: a run
    passes the same list every generation, so a chain costs no new object that lives
    while its calls wait (one less for the garbage collector per generation).
    """
    links: list[Any] = [] if into is None else into
    links.clear()
    lazy: Any = target
    kinds = _KINDS
    while lazy is not None:
        if (
            type(lazy) is not LazyResult
            or lazy.condition is not None
            or lazy.constraints
            or lazy.retry is not None
            or len(links) == 3 * MAX_LINKS
        ):
            links.clear()
            return None
        upstream: Any = None
        slot: Slot = None
        pairs: Iterable[tuple[int | str, Any]] = enumerate(lazy.args)
        if lazy.kwargs:
            pairs = itertools.chain(pairs, lazy.kwargs.items())
        for key, value in pairs:
            kind = type(value)
            if kind is LazyResult:  # the link to the previous call: one at most
                if upstream is not None:
                    links.clear()
                    return None
                upstream, slot = value, key
            elif kinds.get(kind, True) and _needs_graph(kind):
                links.clear()
                return None
        links += (
            lazy.task.injections_left(lazy.args, lazy.kwargs) if lazy.task.injected else (),
            slot,
            lazy,
        )
        lazy = upstream
    links.reverse()
    return links


def arguments(
    lazy: LazyResult,
    slot: Slot,
    resources: tuple[tuple[str, str], ...],
    result: Any,
    scope: ResourceScope,
    into: list[Any] | None = None,
) -> tuple[tuple[Any, ...] | list[Any], Mapping[str, Any]]:
    """The call's args and kwargs: `result` (the previous call's) in `slot`, and the
    values of its `resources` (from `chain_of`), which `scope` has set up already.

    Args taking a result are a list (a result may be put in later): `into`, refilled, when
    given, else a new one. Args and kwargs taking none may be the LazyResult's own, or one
    read-only empty mapping: a waiting run keeps its target's kwargs, usually none.
    """
    args: tuple[Any, ...] | list[Any] = lazy.args
    kwargs: Mapping[str, Any] = lazy.kwargs or _NO_KWARGS
    if type(slot) is int:
        if into is None:
            args = [*args]
        else:
            into[:] = args
            args = into
        args[slot] = result
    if resources or type(slot) is str:
        # Not dict(_NO_KWARGS): copying a mappingproxy costs ten times an empty dict.
        kwargs = copied = dict(lazy.kwargs) if lazy.kwargs else {}
        if type(slot) is str:
            copied[slot] = result
        for param, name in resources:
            copied[param] = scope.value(name)
    return args, kwargs


_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})
"""The kwargs of every chain call given none: read-only, shared, never an empty dict each."""


def _needs_graph(kind: type) -> bool:
    """issubclass(kind, _NEEDS_GRAPH), remembered per type: arguments repeat their types."""
    known = _KINDS.get(kind)
    if known is None:
        known = _KINDS[kind] = issubclass(kind, _NEEDS_GRAPH)
    return known


_KINDS: dict[type, bool] = {}
