"""The rich tables show every function name as it is, brackets included."""

from rich.console import Console

from bench.profiling.render import changes_table, functions_table

ROW = {"function": "[no Python frame]", "group": "rest", "self_pct": 1.6, "total_pct": 1.6}


def printed(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_function_names_are_not_read_as_markup():
    assert "[no Python frame]" in printed(functions_table([ROW], "top"))


def test_changes_show_signed_deltas_and_plain_names():
    change = {
        "function": "[no Python frame]",
        "group": "rest",
        **{"self_a": 1.0, "self_b": 3.5, "self_delta": 2.5},
        **{"total_a": 1.0, "total_b": 0.5, "total_delta": -0.5},
    }
    diff = {"a": "per_agent", "b": "shared", "by_self": [change], "by_total": []}

    text = printed(changes_table(diff, "self"))

    assert "[no Python frame]" in text
    assert "+2.5" in text and "-0.5" in text
    assert "largest changes in self share: per_agent → shared" in text
