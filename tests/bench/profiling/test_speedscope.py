"""py-spy's speedscope file collapsed into stacks."""

from collections import Counter

import pytest

from bench.profiling.speedscope import collapse_speedscope
from bench.profiling.stacks import format_collapsed, parse_collapsed

DOCUMENT = {
    "$schema": "https://www.speedscope.app/file-format-schema.json",
    "shared": {
        "frames": [
            {"name": "<module>", "file": "/repo/bench/__main__.py", "line": 7, "col": None},
            {"name": "Engine.run", "file": "/repo/cascade/runtime/engine.py", "line": 40},
            {"name": "select", "file": "/usr/lib/python3.11/selectors.py", "line": 468},
            {"name": "_worker", "file": "/usr/lib/python3.11/concurrent/futures/thread.py"},
        ]
    },
    "profiles": [
        {
            "type": "sampled",
            "name": "Thread 1 (MainThread)",
            "unit": "seconds",
            "samples": [[0, 1], [0, 2], [0, 1], [0]],
            "weights": [0.01, 0.01, 0.01, 0.01],
        },
        {
            "type": "sampled",
            "name": "Thread 2",
            "unit": "seconds",
            "samples": [[3], [3], []],
            "weights": [0.01, 0.01, 0.01],
        },
    ],
}  # fmt: skip


def test_every_sample_of_every_thread_counts_once_root_first():
    stacks = collapse_speedscope(DOCUMENT)

    main = "<module> (/repo/bench/__main__.py:7)"
    assert stacks == Counter(
        {
            (main, "Engine.run (/repo/cascade/runtime/engine.py:40)"): 2,
            (main, "select (/usr/lib/python3.11/selectors.py:468)"): 1,
            (main,): 1,
            ("_worker (/usr/lib/python3.11/concurrent/futures/thread.py)",): 2,
            ("[no Python frame]",): 1,  # a sample of a thread in C code only
        }
    )


def test_paths_are_shortened_like_py_spy_raw_output():
    stacks = collapse_speedscope(DOCUMENT, lambda path: path.removeprefix("/repo/"))

    assert parse_collapsed(format_collapsed(stacks)) == stacks
    assert format_collapsed(stacks).splitlines() == [
        "<module> (bench/__main__.py:7) 1",
        "<module> (bench/__main__.py:7);Engine.run (cascade/runtime/engine.py:40) 2",
        "<module> (bench/__main__.py:7);select (/usr/lib/python3.11/selectors.py:468) 1",
        "[no Python frame] 1",
        "_worker (/usr/lib/python3.11/concurrent/futures/thread.py) 2",
    ]


def test_an_evented_profile_is_refused():
    document = {"shared": {"frames": []}, "profiles": [{"type": "evented", "events": []}]}

    with pytest.raises(ValueError) as error:
        collapse_speedscope(document)

    assert str(error.value) == "only sampled speedscope profiles can be collapsed, not 'evented'"
