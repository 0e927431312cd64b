"""A topic trie: MQTT topic filters (with `+` and `#`) mapped to items, matched level by level.

Matching a topic walks at most the topic's levels times the wildcard branches met on the
way, never every filter, so it stays cheap with thousands of filters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from cascade.connectors.topics import validate_topic_filter

T = TypeVar("T")


class _Node(Generic[T]):
    """One level: the items whose filter ends here, and the next levels by name."""

    __slots__ = ("children", "items")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.items: list[T] = []


class TopicTrie(Generic[T]):
    """Topic filters mapped to items; ``match(topic)`` finds the items of every matching filter.

    MQTT rules (3.1.1, section 4.7): ``+`` matches one level, ``#`` the parent level and any
    below it (``a/#`` matches ``a``), and a filter starting with a wildcard never matches a
    topic starting with ``$`` (4.7.2: ``#`` does not see ``$SYS/...``). One filter may hold
    several items, even the same item twice; each ``add`` needs its own ``remove``.
    """

    __slots__ = ("_count", "_root")

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._count = 0

    def add(self, topic_filter: str, item: T) -> None:
        """Map ``item`` under ``topic_filter``; ``ValueError`` if the filter is invalid."""
        validate_topic_filter(topic_filter)
        node = self._root
        for level in topic_filter.split("/"):
            child = node.children.get(level)
            if child is None:
                child = node.children[level] = _Node()
            node = child
        node.items.append(item)
        self._count += 1

    def remove(self, topic_filter: str, item: T) -> None:
        """Unmap ``item`` (one mapping of it) from ``topic_filter``; prune levels left empty.

        Raises ``KeyError`` when the item is not mapped under that filter.
        """
        levels = topic_filter.split("/")
        path = [self._root]
        for level in levels:
            child = path[-1].children.get(level)
            if child is None:
                raise KeyError(f"{item!r} is not mapped under topic filter {topic_filter!r}")
            path.append(child)
        try:
            path[-1].items.remove(item)  # the first equal one (objects: the same one)
        except ValueError:
            raise KeyError(f"{item!r} is not mapped under topic filter {topic_filter!r}") from None
        self._count -= 1
        # Walk back up, dropping each node that neither holds items nor leads anywhere.
        for depth in range(len(levels), 0, -1):
            node = path[depth]
            if node.items or node.children:
                break
            del path[depth - 1].children[levels[depth - 1]]

    def match(self, topic: str) -> list[T]:
        """The items of every filter that matches the concrete ``topic``, each once per ``add``.

        The order is the trie walk's (per filter, the order of ``add``), not a global one.
        """
        found: list[T] = []
        nodes = [self._root]
        # MQTT 4.7.2: no wildcard in a filter's first level may match a '$' topic.
        wildcards_allowed = not topic.startswith("$")
        for level in topic.split("/"):
            next_nodes: list[_Node[T]] = []
            for node in nodes:
                children = node.children
                if wildcards_allowed:
                    below = children.get("#")
                    if below is not None:
                        found.extend(below.items)  # 'a/#' matches 'a/b', 'a/b/c', ...
                    one = children.get("+")
                    if one is not None:
                        next_nodes.append(one)
                exact = children.get(level)
                if exact is not None:
                    next_nodes.append(exact)
            if not next_nodes:
                return found
            nodes = next_nodes
            wildcards_allowed = True
        for node in nodes:
            found.extend(node.items)
            parent = node.children.get("#")
            if parent is not None:
                found.extend(parent.items)  # 'a/#' also matches 'a' itself
        return found

    def values(self) -> Iterator[T]:
        """Every mapped item, depth first (for shutdown and statistics, not for routing)."""
        stack = [self._root]
        while stack:
            node = stack.pop()
            yield from node.items
            stack.extend(node.children.values())

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __repr__(self) -> str:
        return f"<TopicTrie items={self._count}>"
