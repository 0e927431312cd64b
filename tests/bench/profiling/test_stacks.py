"""Collapsed stacks: parsing, writing, frame names, path shortening, focusing."""

from collections import Counter

import pytest

from bench.profiling.stacks import (
    focus,
    format_collapsed,
    frame_name,
    frame_path,
    function_of,
    parse_collapsed,
    shorten_path,
    total_weight,
    without,
)

TEXT = """\
main (app.py:1);run (cascade/runtime/engine.py:10) 3
main (app.py:1);run (cascade/runtime/engine.py:12) 2

main (app.py:1);select (selectors.py:468) 5
main (app.py:1);run (cascade/runtime/engine.py:10) 1
"""


def test_parse_collapsed_adds_up_repeated_stacks_and_skips_blank_lines():
    stacks = parse_collapsed(TEXT)

    assert stacks == Counter(
        {
            ("main (app.py:1)", "run (cascade/runtime/engine.py:10)"): 4,
            ("main (app.py:1)", "run (cascade/runtime/engine.py:12)"): 2,
            ("main (app.py:1)", "select (selectors.py:468)"): 5,
        }
    )
    assert total_weight(stacks) == 11


def test_frames_may_contain_spaces():
    stacks = parse_collapsed("<module> (<frozen importlib._bootstrap>:1176);f (a b.py:2) 7\n")

    assert stacks == Counter({("<module> (<frozen importlib._bootstrap>:1176)", "f (a b.py:2)"): 7})


@pytest.mark.parametrize(
    ("line", "number"),
    [("main (app.py:1)", 1), ("main (app.py:1) x", 1), (" 3", 1)],
)
def test_a_line_without_a_count_is_refused_with_its_number(line, number):
    with pytest.raises(ValueError) as error:
        parse_collapsed(line)

    assert str(error.value) == f"line {number} is not 'frame;frame;... COUNT': {line!r}"


def test_the_line_number_counts_blank_lines():
    with pytest.raises(ValueError, match=r"^line 3 is not"):
        parse_collapsed("a (x.py:1) 1\n\nbroken\n")


def test_format_collapsed_round_trips_sorted():
    stacks = parse_collapsed(TEXT)
    text = format_collapsed(stacks)

    assert parse_collapsed(text) == stacks
    assert text.splitlines() == sorted(text.splitlines())
    assert text.endswith(" 5\n")


ENGINE = "cascade/runtime/engine.py"
FROZEN = "<frozen importlib._bootstrap>"


@pytest.mark.parametrize(
    ("frame", "path", "function"),
    [
        (f"run ({ENGINE}:10)", ENGINE, f"run ({ENGINE})"),
        (f"run ({ENGINE})", ENGINE, f"run ({ENGINE})"),
        (f"_find_and_load ({FROZEN}:1176)", FROZEN, f"_find_and_load ({FROZEN})"),
        ("Engine.run.<locals>.step (x.py:3)", "x.py", "Engine.run.<locals>.step (x.py)"),
        ("[no Python frame]", None, "[no Python frame]"),
    ],
)
def test_frame_path_and_function_of(frame, path, function):
    assert frame_path(frame) == path
    assert function_of(frame) == function


def test_frame_name_in_py_spy_notation():
    assert frame_name("run", "engine.py", 10) == "run (engine.py:10)"
    assert frame_name("run", "engine.py", None) == "run (engine.py)"
    assert frame_name("run", None, 10) == "run"


def test_shorten_path_uses_the_longest_prefix():
    prefixes = ["/usr/lib/python3.11", "/usr/lib/python3.11/site-packages/", "/repo"]

    assert shorten_path("/usr/lib/python3.11/site-packages/rich/table.py", prefixes) == (
        "rich/table.py"
    )
    assert shorten_path("/usr/lib/python3.11/asyncio/events.py", prefixes) == "asyncio/events.py"
    assert shorten_path("/repo/cascade/graph/build.py", prefixes) == "cascade/graph/build.py"
    assert shorten_path("/repository/x.py", prefixes) == "/repository/x.py"
    assert shorten_path("<frozen runpy>", prefixes) == "<frozen runpy>"


def test_focus_keeps_the_stacks_through_a_function_cut_at_its_first_call():
    stacks = Counter(
        {
            ("<module> (m.py:1)", "set_up (s.py:2)", "f (f.py:3)", "set_up (s.py:2)"): 4,
            ("<module> (m.py:1)", "set_up (s.py:5)"): 1,
            ("<module> (m.py:1)", "import (i.py:1)"): 10,
            ("<module> (m.py:1)", "set_up_more (s.py:9)"): 2,
        }
    )

    assert focus(stacks, "set_up") == Counter(
        {
            ("set_up (s.py:2)", "f (f.py:3)", "set_up (s.py:2)"): 4,
            ("set_up (s.py:5)",): 1,
        }
    )


def test_without_drops_every_stack_that_calls_the_function():
    stacks = Counter(
        {
            ("a (m.py:1)", "f (f.py:1)", "g (g.py:2)"): 3,
            ("a (m.py:1)", "g (g.py:1)"): 5,
            ("a (m.py:1)", "f_other (f.py:9)"): 7,
        }
    )

    assert without(stacks, "f") == Counter(
        {("a (m.py:1)", "g (g.py:1)"): 5, ("a (m.py:1)", "f_other (f.py:9)"): 7}
    )
    assert without(stacks, "a") == Counter()
