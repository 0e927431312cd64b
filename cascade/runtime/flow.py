"""FlowManager: skip and router-pruning decisions for ONE execution of one graph.

It must never be shared between runs: its demand counts and router selections
describe a single execution (sharing one was the engine's original data race).
"""

from __future__ import annotations

from typing import Any

from cascade.errors import RoutingError
from cascade.graph.model import Edge, EdgeKind, Graph, Node
from cascade.runtime.state import StateBackend

# Reason codes recorded in the state backend and carried by TaskSkipped events.
CONDITION_FALSE = "ConditionFalse"
UPSTREAM_SKIPPED = "UpstreamSkipped"
ROUTER_PRUNED = "RouterPruned"

_NO_SELECTION: Any = object()


class FlowManager:
    """Tracks which nodes are still needed and which router branches were chosen."""

    __slots__ = ("_demand", "_graph", "_pruned", "_selection", "_selectors")

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._pruned: dict[int, str] = {}
        self._selection: dict[int, Any] = {}  # id(router) -> chosen key
        # How many not-yet-cancelled consumers still need each node's result.
        self._demand = {
            n.id: sum(1 for e in graph.outgoing[n.id] if _demands(e)) for n in graph.nodes
        }
        self._demand[graph.target.id] += 1  # the run itself needs the target
        self._selectors: dict[int, list[Edge]] = {}
        for edge in graph.edges:
            if edge.kind is EdgeKind.ROUTER:
                self._selectors.setdefault(edge.source.id, []).append(edge)

    def should_skip(self, node: Node, state: StateBackend) -> str | None:
        """The reason `node` must not run, or None when it should run."""
        if node.id in self._pruned:
            return self._pruned[node.id]
        for edge in self._graph.incoming[node.id]:
            if edge.kind is EdgeKind.GATE or not self._is_live(edge):
                continue
            if state.get_skip_reason(edge.source.id) is not None:
                return UPSTREAM_SKIPPED
            if edge.kind is EdgeKind.CONDITION and not state.get_result(edge.source.id):
                return CONDITION_FALSE
        return None

    def skip(self, node: Node, reason: str, state: StateBackend) -> None:
        """Record that `node` will not run, and stop demanding its sources."""
        state.mark_skipped(node.id, reason)
        self._release_sources(node)
        for edge in self._selectors.get(node.id, ()):
            # No branch will ever be chosen: the consumer gets skipped, so none is needed.
            self._release_routes(edge, keep=_NO_SELECTION)

    def register_result(self, node: Node, result: Any) -> None:
        """Note a finished node; when it is a router selector, prune the branches not chosen."""
        for edge in self._selectors.get(node.id, ()):
            router = edge.router
            try:
                chosen = result in router.routes
            except TypeError:  # unhashable: a list, a dict
                raise RoutingError(
                    f"Router for argument {edge.arg!r} of task {edge.target.name!r}: selector "
                    f"returned {result!r} of unhashable type {type(result).__name__!r}, which "
                    f"cannot be one of its routes {list(router.routes)!r}"
                ) from None
            if not chosen:
                raise RoutingError(
                    f"Router for argument {edge.arg!r} of task {edge.target.name!r}: selector "
                    f"returned {result!r}, which is not one of its routes {list(router.routes)!r}"
                )
            self._selection[id(router)] = result
            self._release_routes(edge, keep=result)

    def _release_routes(self, selector_edge: Edge, keep: Any) -> None:
        for edge in self._graph.incoming[selector_edge.target.id]:
            same_router = edge.router is selector_edge.router and edge.kind is EdgeKind.DATA
            if same_router and (keep is _NO_SELECTION or edge.route_key != keep):
                self._release(edge.source)

    def _is_live(self, edge: Edge) -> bool:
        """False for the data edge of a router branch that was not chosen."""
        if edge.router is None or edge.kind is not EdgeKind.DATA:
            return True
        return self._selection.get(id(edge.router), _NO_SELECTION) == edge.route_key

    def _release_sources(self, node: Node) -> None:
        for edge in self._graph.incoming[node.id]:
            if _demands(edge) and self._is_live(edge):
                self._release(edge.source)

    def _release(self, source: Node) -> None:
        """One consumer no longer needs `source`; prune it (and upward) when nobody does."""
        stack = [source]
        while stack:
            node = stack.pop()
            self._demand[node.id] -= 1
            if self._demand[node.id] > 0 or node.id in self._pruned:
                continue
            self._pruned[node.id] = ROUTER_PRUNED
            stack.extend(e.source for e in self._graph.incoming[node.id] if _demands(e))


def _demands(edge: Edge) -> bool:
    return edge.kind is not EdgeKind.GATE
