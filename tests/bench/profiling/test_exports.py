"""bench.profiling's front door: the names it re-exports, pinned."""

import bench.profiling

EXPORTS = {
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
}


def test_the_public_names_are_pinned_and_all_exist():
    assert set(bench.profiling.__all__) == EXPORTS
    assert all(hasattr(bench.profiling, name) for name in EXPORTS)
