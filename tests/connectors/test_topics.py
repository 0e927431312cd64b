"""Topic filter matching and validation: MQTT's '+' and '#' rules as a table."""

import re

import pytest

from cascade.connectors import LocalBroker, topic_matches, validate_topic_filter
from cascade.connectors.base import is_empty_payload

MATCH_TABLE = [
    # (filter, topic, matches)
    ("a/b", "a/b", True),
    ("a/b", "a/c", False),
    ("a/b", "a/b/c", False),
    ("a/b/c", "a/b", False),
    ("a/+", "a/b", True),
    ("a/+", "a", False),
    ("a/+", "a/b/c", False),
    ("+/b", "x/b", True),
    ("+/b", "x/y/b", False),
    ("+", "a", True),
    ("+", "a/b", False),
    ("+/+", "a/b", True),
    ("a/+/c", "a/b/c", True),
    ("a/+/c", "a/b/d", False),
    ("a/+/b", "a//b", True),
    ("a//b", "a//b", True),
    ("a//b", "a/b", False),
    ("/+", "/x", True),
    ("+", "/x", False),
    ("a/#", "a", True),
    ("a/#", "a/b", True),
    ("a/#", "a/b/c", True),
    ("a/#", "b/a", False),
    ("a/#", "ab", False),
    ("#", "a", True),
    ("#", "a/b/c", True),
    ("#", "/", True),
    ("+/#", "a", True),
    ("+/b/#", "a/b", True),
    ("+/b/#", "a/c/d", False),
    ("a/b", "A/b", False),
]


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), MATCH_TABLE)
def test_topic_matches_table(topic_filter, topic, expected):
    assert topic_matches(topic_filter, topic) is expected


def test_table_has_both_outcomes():
    outcomes = [expected for _, _, expected in MATCH_TABLE]
    assert len(MATCH_TABLE) >= 20
    assert outcomes.count(True) >= 8 and outcomes.count(False) >= 8


@pytest.mark.parametrize(
    ("topic_filter", "message"),
    [
        ("", "invalid topic filter '': a topic filter must not be empty"),
        ("a/#/b", "invalid topic filter 'a/#/b': '#' must be the last level"),
        ("#/a", "invalid topic filter '#/a': '#' must be the last level"),
        ("a/b#", "invalid topic filter 'a/b#': '+' and '#' must occupy a whole level"),
        ("a+/b", "invalid topic filter 'a+/b': '+' and '#' must occupy a whole level"),
        ("a/++", "invalid topic filter 'a/++': '+' and '#' must occupy a whole level"),
    ],
)
def test_invalid_filters_are_rejected_with_the_rule(topic_filter, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_topic_filter(topic_filter)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        topic_matches(topic_filter, "a/b")


@pytest.mark.parametrize("topic_filter", ["a", "a/b", "+", "#", "a/+/b", "a/#", "/", "a//b"])
def test_valid_filters_pass(topic_filter):
    validate_topic_filter(topic_filter)


async def test_subscribing_with_an_invalid_filter_raises():
    broker = LocalBroker()

    async def callback(topic, payload):
        pass

    message = "invalid topic filter 'a/#/b': '#' must be the last level"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await broker.subscribe("a/#/b", callback)
    assert broker.statistics().subscriptions == 0


@pytest.mark.parametrize("topic", ["a/+", "a/#", "#", "a+b", "x/y#"])
async def test_publishing_to_a_wildcard_topic_raises(topic):
    broker = LocalBroker()
    message = f"invalid topic '{topic}': wildcards are only allowed in subscriptions"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await broker.publish(topic, b"x")
    assert broker.statistics().published == 0


async def test_publishing_to_an_empty_topic_raises():
    broker = LocalBroker()
    message = "invalid topic '': a topic must not be empty"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await broker.publish("", b"x")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, True),
        (b"", True),
        ("", True),
        (bytearray(), True),
        (b"x", False),
        ("x", False),
        (0, False),
        (False, False),
        ([], False),
    ],
)
def test_is_empty_payload(payload, expected):
    assert is_empty_payload(payload) is expected
