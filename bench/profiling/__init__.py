"""Profiling a firefly run: py-spy samples of a `bench run` child, memray traces of its set-up.

The pure part (collapsed stacks, groups, top-N tables, differentials, speedscope → collapsed)
is separate from the shells that run the tools; `python -m bench profile` puts them together.
"""

from bench.profiling.diff import ShareChange, differential, share_changes
from bench.profiling.groups import GROUPS, classify_frame, classify_path
from bench.profiling.pyspy import Sampling
from bench.profiling.speedscope import collapse_speedscope
from bench.profiling.stacks import Stacks, format_collapsed, parse_collapsed
from bench.profiling.top import FunctionShare, GroupShare, profile_table, top_functions

__all__ = [
    "GROUPS",
    "FunctionShare",
    "GroupShare",
    "Sampling",
    "ShareChange",
    "Stacks",
    "classify_frame",
    "classify_path",
    "collapse_speedscope",
    "differential",
    "format_collapsed",
    "parse_collapsed",
    "profile_table",
    "share_changes",
    "top_functions",
]
