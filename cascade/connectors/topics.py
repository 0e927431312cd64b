"""MQTT topic rules: filter validation and `+`/`#` wildcard matching, pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn


def validate_topic_filter(topic_filter: str) -> None:
    """Raise ``ValueError`` naming the filter and the broken rule if it is not a valid filter."""
    if not topic_filter:
        raise ValueError("invalid topic filter '': a topic filter must not be empty")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if level not in ("+", "#") and ("+" in level or "#" in level):
            _bad_filter(topic_filter, "'+' and '#' must occupy a whole level")
        if level == "#" and index != len(levels) - 1:
            _bad_filter(topic_filter, "'#' must be the last level")


def _bad_filter(topic_filter: str, rule: str) -> NoReturn:
    raise ValueError(f"invalid topic filter '{topic_filter}': {rule}")


def validate_topic(topic: str) -> None:
    """Raise ``ValueError`` unless ``topic`` is a concrete topic one may publish to."""
    if not topic:
        raise ValueError("invalid topic '': a topic must not be empty")
    if "+" in topic or "#" in topic:
        raise ValueError(f"invalid topic '{topic}': wildcards are only allowed in subscriptions")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Tell whether ``topic`` matches ``topic_filter`` under MQTT's ``+`` / ``#`` rules.

    The filter is validated (``ValueError`` if invalid); the topic is compared literally.
    """
    validate_topic_filter(topic_filter)
    return levels_match(topic_filter.split("/"), topic.split("/"))


def levels_match(filter_levels: Sequence[str], topic_levels: Sequence[str]) -> bool:
    """Match pre-split levels of a valid filter and a topic (the broker keeps filters split)."""
    for index, level in enumerate(filter_levels):
        if level == "#":
            # '#' also matches the parent level itself: 'a/#' matches 'a'.
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)


def is_wildcard(topic_filter: str) -> bool:
    """True when the filter needs matching rather than an exact dict lookup."""
    return "+" in topic_filter or "#" in topic_filter
