"""TopicTrie: MQTT filter matching level by level, removal with pruning, a random cross-check."""

import random

import pytest

from cascade.connectors.topics import levels_match
from cascade.connectors.trie import TopicTrie

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
    ("+", "a", True),
    ("+", "a/b", False),
    ("+", "/x", False),
    ("/+", "/x", True),
    ("a/+/b", "a//b", True),
    ("a//b", "a/b", False),
    ("a/#", "a", True),
    ("a/#", "a/b/c", True),
    ("a/#", "ab", False),
    ("#", "a/b/c", True),
    ("#", "/", True),
    ("+/#", "a", True),
    ("+/b/#", "a/b", True),
    ("+/b/#", "a/c/d", False),
    # MQTT 4.7.2: a filter starting with a wildcard does not match a '$' topic.
    ("#", "$SYS/broker/load", False),
    ("+/broker/#", "$SYS/broker/load", False),
    ("+", "$SYS", False),
    ("$SYS/#", "$SYS/broker/load", True),
    ("$SYS/+/load", "$SYS/broker/load", True),
    ("$SYS/#", "$SYS", True),
    ("a/#", "a/$b", True),  # only the first level is special
    ("a/+", "a/$b", True),
]


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), MATCH_TABLE)
def test_one_filter_matches_like_mqtt(topic_filter, topic, expected):
    trie: TopicTrie[str] = TopicTrie()
    trie.add(topic_filter, "item")
    assert trie.match(topic) == (["item"] if expected else [])


def test_every_matching_filter_contributes_its_items():
    trie: TopicTrie[str] = TopicTrie()
    for topic_filter in ["a/b/c", "a/+/c", "a/#", "#", "+/+/+", "a/b", "x/#"]:
        trie.add(topic_filter, topic_filter)
    assert sorted(trie.match("a/b/c")) == sorted(["a/b/c", "a/+/c", "a/#", "#", "+/+/+"])
    assert sorted(trie.match("a")) == ["#", "a/#"]
    assert trie.match("$x/b/c") == []


def test_a_filter_holds_several_items_in_the_order_they_were_added():
    trie: TopicTrie[str] = TopicTrie()
    trie.add("s/+", "first")
    trie.add("s/+", "second")
    trie.add("s/+", "first")  # the same item twice: two mappings
    assert trie.match("s/1") == ["first", "second", "first"]
    assert len(trie) == 3
    trie.remove("s/+", "first")
    assert trie.match("s/1") == ["second", "first"]


def test_remove_prunes_empty_levels_and_keeps_the_others():
    trie: TopicTrie[int] = TopicTrie()
    trie.add("a/b/c/d", 1)
    trie.add("a/b", 2)
    trie.add("a/+/#", 3)
    trie.remove("a/b/c/d", 1)
    assert list(trie._root.children["a"].children["b"].children) == []  # c/d pruned
    assert sorted(trie.match("a/b")) == [2, 3]
    trie.remove("a/b", 2)
    trie.remove("a/+/#", 3)
    assert trie._root.children == {}
    assert len(trie) == 0
    assert not trie


def test_len_and_bool_count_mappings():
    trie: TopicTrie[int] = TopicTrie()
    assert len(trie) == 0 and not trie
    trie.add("a/#", 1)
    trie.add("b", 2)
    assert len(trie) == 2 and trie
    assert sorted(trie.values()) == [1, 2]


def test_removing_what_is_not_mapped_is_a_key_error():
    trie: TopicTrie[object] = TopicTrie()
    item = object()
    trie.add("a/+", item)
    with pytest.raises(KeyError, match="not mapped under topic filter 'a/#'"):
        trie.remove("a/#", item)
    with pytest.raises(KeyError, match="not mapped under topic filter 'a/\\+'"):
        trie.remove("a/+", object())  # not equal to the mapped one
    trie.remove("a/+", item)
    with pytest.raises(KeyError):
        trie.remove("a/+", item)
    assert len(trie) == 0


def test_an_invalid_filter_is_refused_on_add():
    trie: TopicTrie[int] = TopicTrie()
    with pytest.raises(ValueError, match="'#' must be the last level"):
        trie.add("a/#/b", 1)
    with pytest.raises(ValueError, match="must occupy a whole level"):
        trie.add("a/b+", 1)
    assert len(trie) == 0


def oracle(topic_filter: str, topic: str) -> bool:
    """levels_match plus MQTT 4.7.2, which levels_match leaves to the caller."""
    if topic.startswith("$") and topic_filter[0] in "+#":
        return False
    return levels_match(topic_filter.split("/"), topic.split("/"))


def random_filter(rng: random.Random) -> str:
    levels = [rng.choice(["a", "b", "", "$s", "+", "+"]) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        levels.append("#")
    return "/".join(levels) or "a"  # a lone empty level is the invalid filter ''


def random_topic(rng: random.Random) -> str:
    topic = "/".join(rng.choice(["a", "b", "", "$s"]) for _ in range(rng.randint(1, 5)))
    return topic or "b"


@pytest.mark.parametrize("seed", range(5))
def test_random_filters_match_exactly_what_levels_match_says(seed):
    rng = random.Random(seed)
    trie: TopicTrie[int] = TopicTrie()
    filters = [random_filter(rng) for _ in range(300)]
    for index, topic_filter in enumerate(filters):
        trie.add(topic_filter, index)
    removed = set(rng.sample(range(len(filters)), 100))
    for index in removed:
        trie.remove(filters[index], index)
    assert len(trie) == len(filters) - len(removed)
    for _ in range(500):
        topic = random_topic(rng)
        expected = [
            index
            for index, topic_filter in enumerate(filters)
            if index not in removed and oracle(topic_filter, topic)
        ]
        assert sorted(trie.match(topic)) == expected, topic
    for index, topic_filter in enumerate(filters):
        if index not in removed:
            trie.remove(topic_filter, index)
    assert trie._root.children == {}
