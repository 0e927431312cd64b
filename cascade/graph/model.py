"""Graph data model: nodes (one per task call or param) and typed edges between them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class EdgeKind(enum.Enum):
    """Why one node must finish before another."""

    DATA = "data"  # the source's result is an argument of the target
    CONDITION = "condition"  # the source decides by truthiness whether the target runs
    ROUTER = "router"  # the source is the selector of a Router argument of the target
    CONSTRAINT = "constraint"  # the source's result sizes a resource requirement of the target
    GATE = "gate"  # ordering only: a router branch waits for its selector before it may run


@dataclass(eq=False, slots=True)
class Node:
    """One task call (`kind="task"`), fan-out (`"map"`) or param (`"param"`) of a graph."""

    id: int
    name: str
    kind: str
    spec: Any
    resources: frozenset[str] = frozenset()
    # Positions/keywords of arguments holding references; the others are passed as they are.
    dynamic_args: frozenset[int | str] = frozenset()

    def __repr__(self) -> str:
        return f"<Node {self.kind}:{self.name} #{self.id}>"


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency from `source` to `target`; router edges carry the router and route key."""

    source: Node
    target: Node
    kind: EdgeKind
    arg: str | None = None
    router: Any = None
    route_key: Any = None


@dataclass(slots=True)
class Graph:
    """The nodes and edges of one generation of a workflow, with adjacency by node id."""

    target: Node
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    by_id: dict[int, Node] = field(default_factory=dict)
    incoming: dict[int, list[Edge]] = field(default_factory=dict)
    outgoing: dict[int, list[Edge]] = field(default_factory=dict)

    def add_node(self, node: Node) -> None:
        """Add a node with empty adjacency."""
        self.nodes.append(node)
        self.by_id[node.id] = node
        self.incoming[node.id] = []
        self.outgoing[node.id] = []

    def add_edge(self, edge: Edge) -> None:
        """Add an edge between two nodes already in the graph."""
        self.edges.append(edge)
        self.incoming[edge.target.id].append(edge)
        self.outgoing[edge.source.id].append(edge)

    def required_resources(self) -> dict[str, list[str]]:
        """Resource name -> names of the tasks that need it, in node order."""
        needed: dict[str, list[str]] = {}
        for node in self.nodes:
            for name in sorted(node.resources):
                needed.setdefault(name, []).append(node.name)
        return needed
