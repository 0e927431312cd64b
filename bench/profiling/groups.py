"""Which part of the program a frame belongs to, judged by its file's path."""

from __future__ import annotations

from bench.profiling.stacks import frame_path

GROUPS = ("engine", "workload", "asyncio", "probes", "rest")
"""Every group, in the order tables show them."""

_BY_FOLDER = (  # checked in order: bench/... before cascade/, in case the checkout is ".../cascade"
    ("/bench/workload/", "workload"),
    ("/bench/probes/", "probes"),
    ("/asyncio/", "asyncio"),
    ("/cascade/", "engine"),
)
_ASYNCIO_FILES = ("selectors.py", "_asyncio")  # the loop's selector and asyncio's C module


def classify_path(path: str | None) -> str:
    """The group of a source file: engine, workload, asyncio, probes or rest."""
    if not path:
        return "rest"
    folders = "/" + path.replace("\\", "/")
    for folder, group in _BY_FOLDER:
        if folder in folders:
            return group
    basename = folders.rsplit("/", 1)[-1]
    return "asyncio" if basename.startswith(_ASYNCIO_FILES) else "rest"


def classify_frame(frame: str) -> str:
    """The group of a py-spy frame `function (path:line)`."""
    return classify_path(frame_path(frame))
