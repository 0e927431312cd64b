"""NativeSolver: order a graph into stages whose nodes may run concurrently."""

from __future__ import annotations

from typing import Any, ClassVar

from cascade.errors import DefinitionError
from cascade.graph.model import Graph, Node

Plan = list[list[Node]]


class NativeSolver:
    """Topological levels (Kahn's algorithm): a node's stage follows all its sources' stages."""

    bypassable: ClassVar[bool] = True
    """Whether the engine may run a plain chain of calls without a graph or a plan: its one
    plan is its calls in order, deepest first, as `resolve` gives it. A subclass that
    overrides `resolve` is asked every generation, unless it says True."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "resolve" in vars(cls) and "bypassable" not in vars(cls):
            cls.bypassable = False

    def resolve(self, graph: Graph) -> Plan:
        """Return the stages of `graph`; raise DefinitionError when it has a cycle."""
        indegree = {node.id: len(graph.incoming[node.id]) for node in graph.nodes}
        stage = [node for node in graph.nodes if indegree[node.id] == 0]
        plan: Plan = []
        placed = 0
        while stage:
            plan.append(stage)
            placed += len(stage)
            stage = self._next_stage(graph, stage, indegree)
        if placed != len(graph.nodes):
            stuck = sorted({n.name for n in graph.nodes if indegree[n.id] > 0})
            raise DefinitionError(f"the workflow has a dependency cycle among tasks {stuck}")
        return plan

    @staticmethod
    def _next_stage(graph: Graph, stage: list[Node], indegree: dict[int, int]) -> list[Node]:
        ready = []
        for node in stage:
            for edge in graph.outgoing[node.id]:
                indegree[edge.target.id] -= 1
                if indegree[edge.target.id] == 0:
                    ready.append(edge.target)
        return ready
