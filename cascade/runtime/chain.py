"""The common shape of a tail-call generation, recognised without building a graph.

Most generations are a short chain: `decide(..., action(...))`, each call taking at most
one other call's result as a direct argument. Such a generation has exactly one
solution (deepest call first), no skips, no routing and no fan-out, so the engine may run
it link by link without a Graph, a plan or a FlowManager. Anything else (params, routers,
conditions, maps, retries, constraints, injections or references inside containers, a
shared sub-result) is left to the general path, which handles every case.

`chain_of` recognises a chain; `resources_ready` and `set_up_resources` set up what its
calls inject; a run (`ChainRun`) takes the target's call first, so that it holds none of
the generation's LazyResults while the earlier calls wait, then `take_call` gives it the
other calls one by one, in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cascade.runtime.resource_scope import ResourceScope
from cascade.spec.lazy import LazyResult
from cascade.spec.param import Param
from cascade.spec.resource import Inject, ResourceDefinition
from cascade.spec.routing import Router
from cascade.spec.task import Task

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
    resource name) pairs); only this module reads that layout. It is `into` (emptied
    first) when given: a run passes the same list every generation, so a chain costs no
    new object that lives while its calls wait (one less for the garbage collector per
    generation).
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


class ChainRun(ResourceScope):
    """What a run keeps for its chain generations: a run-scoped resource scope (the values
    of `cs.inject` defaults come from it) that holds the generation's target call while
    the earlier calls wait, so that the run holds none of the generation's LazyResults."""

    __slots__ = ("_held", "target_args", "target_id", "target_kwargs", "target_slot", "target_task")

    # The target call, set by take_target before it is read.
    target_task: Task
    target_id: int
    target_slot: Slot
    target_args: Any
    target_kwargs: Any

    def __init__(self, definitions: Mapping[str, ResourceDefinition]) -> None:
        super().__init__(definitions)
        self._held: list[Any] | None = None

    def take_target(self, links: list[Any]) -> int:
        """Take the target's call off the chain `links` and keep it, ready but for the
        previous call's result in `target_slot`; return how many calls the chain makes.

        Positional arguments that take a result go in the run's one list, refilled every
        generation: a list per generation would live as long as the wait, and every young
        collection of the garbage collector would walk it.
        """
        count = len(links) // 3
        task, node_id, slot, args, kwargs = take_call(
            links, None, self, target=True, into=self._held
        )
        if type(slot) is int:
            self._held = args
        self.target_task, self.target_id, self.target_slot = task, node_id, slot
        self.target_args, self.target_kwargs = args, kwargs
        return count


def take_call(
    links: list[Any],
    result: Any,
    scope: ResourceScope,
    target: bool = False,
    into: list[Any] | None = None,
) -> tuple[Task, int, Slot, Any, Mapping[str, Any]]:
    """Take the chain's first call off `links` (its last, the target's, with `target`: to
    be taken first) and return its task, node id, slot, args and kwargs: `result` (the
    previous call's) in the slot, the values of its resources, which `scope` has set up
    already, in its kwargs. `links` is empty once only the target's call is left.

    Args taking a result are a list (a result may be put in later): `into`, refilled, when
    given, else a new one. Args and kwargs taking none may be the LazyResult's own, or one
    read-only empty mapping: a waiting run keeps its target's kwargs, usually none.
    """
    # The target's link, taken first, stays until only it is left; then the list is
    # emptied, which frees its array, where shrinking it to one link would reallocate it.
    if target:
        lazy, slot, resources = links[-3], links[-2], links[-1]
        if len(links) == 3:
            links.clear()
    else:
        lazy, slot, resources = links[0], links[1], links[2]
        if len(links) == 6:
            links.clear()
        else:
            del links[:3]
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
    return lazy.task, lazy._id, slot, args, kwargs


def resources_ready(links: list[Any], scope: ResourceScope) -> bool:
    """Whether every resource the chain's calls need is set up in `scope`, those missing
    being set up right here when none of them needs awaiting. False leaves it to
    `set_up_resources` (which also raises for a resource nobody registered)."""
    missing = None
    for index in range(2, len(links), 3):
        for _, name in links[index]:
            if not scope.ready(name):
                if missing is not None and name != missing:
                    return _set_up_now(list(_needed(links)), scope)
                missing = name
    return missing is None or _set_up_now((missing,), scope)


async def set_up_resources(links: list[Any], scope: ResourceScope) -> bool:
    """Check and set up the chain's resources as the general path would; False when one is
    task-scoped (set up per task execution: the general path's job)."""
    needed = _needed(links)
    scope.check(needed)
    if any(scope.is_task_scoped(name) for name in needed):
        return False
    for name in needed:
        if not scope.ready(name):
            await scope.get(name)
    return True


def _set_up_now(names: Iterable[str], scope: ResourceScope) -> bool:
    # All or nothing, in the order given (_needed's): a check that fails finds none set up.
    for name in names:
        if not (scope.ready(name) or scope.can_set_up_now(name)):
            return False
    for name in names:
        if not scope.ready(name):
            scope.set_up_now(name)
    return True


def _needed(links: list[Any]) -> dict[str, list[str]]:
    """Resource name -> names of the chain's tasks that need it, in the order the general
    path sets them up (graph.required_resources(): target first, names sorted per call)."""
    needed: dict[str, list[str]] = {}
    for index in range(len(links) - 3, -1, -3):
        resources = links[index + 2]
        if resources:
            for name in sorted([name for _, name in resources]):
                needed.setdefault(name, []).append(links[index].task.name)
    return needed


_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})
"""The kwargs of every chain call given none: read-only, shared, never an empty dict each."""


def _needs_graph(kind: type) -> bool:
    """issubclass(kind, _NEEDS_GRAPH), remembered per type: arguments repeat their types."""
    known = _KINDS.get(kind)
    if known is None:
        known = _KINDS[kind] = issubclass(kind, _NEEDS_GRAPH)
    return known


_KINDS: dict[type, bool] = {}
