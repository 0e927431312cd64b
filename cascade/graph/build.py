"""build_graph: walk a LazyResult tree into a Graph, one node per distinct call."""

from __future__ import annotations

from typing import Any

from cascade.errors import DefinitionError
from cascade.graph.model import Edge, EdgeKind, Graph, Node
from cascade.spec.lazy import LazyResult, MappedLazyResult
from cascade.spec.param import Param
from cascade.spec.resource import Inject
from cascade.spec.routing import Router


def build_graph(target: LazyResult) -> Graph:
    """Build the graph of everything `target` depends on; a shared sub-result is one node."""
    if not isinstance(target, LazyResult):
        raise DefinitionError(
            f"a workflow target must be a LazyResult (the result of calling a task), "
            f"got {type(target).__name__} {target!r}"
        )
    return _Builder(target).graph


class _Builder:
    def __init__(self, target: LazyResult) -> None:
        self._todo: list[LazyResult] = []
        self._routers: list[tuple[Router, Node]] = []
        root = Node(target._id, target.task.name, _kind(target), target)
        self.graph = Graph(root)
        self.graph.add_node(root)
        self._todo.append(target)
        while self._todo:  # iterative: deep chains must not hit the recursion limit
            self._scan(self._todo.pop())
        for router, consumer in self._routers:
            self._gate_routes(router, consumer)

    def _node(self, spec: LazyResult | Param) -> Node:
        found = self.graph.by_id.get(spec._id)
        if found is not None:
            return found
        if isinstance(spec, Param):
            node = Node(spec._id, spec.name, "param", spec)
        else:
            node = Node(spec._id, spec.task.name, _kind(spec), spec)
            self._todo.append(spec)
        self.graph.add_node(node)
        return node

    def _scan(self, lazy: LazyResult) -> None:
        consumer = self.graph.by_id[lazy._id]
        resources = set(_injected_defaults(lazy))
        dynamic: set[int | str] = set()
        for index, value in enumerate(lazy.args):
            if self._refs(value, consumer, str(index), resources):
                dynamic.add(index)
        for key, value in lazy.kwargs.items():
            if self._refs(value, consumer, key, resources):
                dynamic.add(key)
        if lazy.condition is not None:
            self._edge(lazy.condition, consumer, EdgeKind.CONDITION)
        for key, value in (lazy.constraints or {}).items():
            if isinstance(value, LazyResult):
                self._edge(value, consumer, EdgeKind.CONSTRAINT, key)
        consumer.resources = frozenset(resources)
        consumer.dynamic_args = frozenset(dynamic)

    def _edge(
        self,
        spec: LazyResult | Param,
        consumer: Node,
        kind: EdgeKind,
        arg: str | None = None,
        router: Router | None = None,
        route_key: Any = None,
    ) -> None:
        source = self._node(spec)
        self.graph.add_edge(Edge(source, consumer, kind, arg, router, route_key))

    def _refs(self, value: Any, consumer: Node, arg: str, resources: set[str]) -> bool:
        """Add the edges/resources found in one argument; True when it needs resolving."""
        found = False
        stack = [value]
        while stack:
            item = stack.pop()
            if _is_node(item):
                self._edge(item, consumer, EdgeKind.DATA, arg)
            elif isinstance(item, Inject):
                resources.add(item.name)
            elif isinstance(item, Router):
                self._router(item, consumer, arg)
            elif isinstance(item, list | tuple):
                stack.extend(item)
                continue
            elif isinstance(item, dict):
                stack.extend(item.values())
                continue
            else:
                continue
            found = True
        return found

    def _router(self, router: Router, consumer: Node, arg: str) -> None:
        if not _is_node(router.selector):
            # A literal selector is decided already: only its route is a (plain) dependency.
            route = router.routes[router.selector]
            if _is_node(route):
                self._edge(route, consumer, EdgeKind.DATA, arg)
            return
        self._edge(router.selector, consumer, EdgeKind.ROUTER, arg, router)
        self._routers.append((router, consumer))
        for key, route in router.routes.items():
            if _is_node(route):
                self._edge(route, consumer, EdgeKind.DATA, arg, router, key)

    def _gate_routes(self, router: Router, consumer: Node) -> None:
        """Make every branch-only node wait for the selector, so pruning happens before it runs."""
        selector = self.graph.by_id[router.selector._id]
        upstream = self._upstream([selector])
        gated = {e.target.id for e in self.graph.outgoing[selector.id] if e.kind is EdgeKind.GATE}
        roots = [self.graph.by_id[r._id] for r in router.routes.values() if _is_node(r)]
        for node in self._upstream(roots, stop=upstream).values():
            if node.id not in gated and node is not selector:
                gated.add(node.id)
                self.graph.add_edge(Edge(selector, node, EdgeKind.GATE, router=router))

    def _upstream(self, start: list[Node], stop: dict[int, Node] | None = None) -> dict[int, Node]:
        """The given nodes and all their ancestors, except those in `stop`."""
        stop = stop or {}
        seen: dict[int, Node] = {}
        stack = [n for n in start if n.id not in stop]
        while stack:
            node = stack.pop()
            if node.id in seen:
                continue
            seen[node.id] = node
            stack.extend(e.source for e in self.graph.incoming[node.id] if e.source.id not in stop)
        return seen


def _is_node(value: Any) -> bool:
    return isinstance(value, LazyResult | Param)


def _kind(lazy: LazyResult) -> str:
    return "map" if isinstance(lazy, MappedLazyResult) else "task"


def _injected_defaults(lazy: LazyResult) -> list[str]:
    """Resources asked for by parameter defaults that this call does not override."""
    return [
        resource
        for param, (position, resource) in lazy.task.injected.items()
        if position >= len(lazy.args) and param not in lazy.kwargs
    ]
