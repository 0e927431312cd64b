"""Run-time control flow: run_if, skip propagation, Router, map, wait, Params, concurrency."""

import asyncio
import math
import re

import pytest

import cascade as cs

ran: list[str] = []


@pytest.fixture(autouse=True)
def _clear_ran():
    ran.clear()


@cs.task
def value(x):
    ran.append(f"value:{x}")
    return x


@cs.task
def branch(label):
    ran.append(label)
    return label


@cs.task
def echo(x):
    ran.append("echo")
    return x


@cs.task
def add(a, b):
    ran.append("add")
    return a + b


@cs.task
async def slow(x, seconds=1):
    await asyncio.sleep(seconds)
    return x


def engine_with_skips() -> tuple[cs.Engine, list[cs.TaskSkipped]]:
    engine = cs.Engine()
    skipped: list[cs.TaskSkipped] = []
    engine.bus.subscribe(cs.TaskSkipped, skipped.append)
    return engine, skipped


def reasons(skipped: list[cs.TaskSkipped]) -> dict[str, str]:
    return {event.task_name: event.reason for event in skipped}


# --- run_if and skipping ---------------------------------------------------------------------


async def test_run_if_true_runs_the_task():
    assert await cs.Engine().run(branch("yes").run_if(value(True))) == "yes"
    assert "yes" in ran


async def test_run_if_false_skips_the_task():
    engine, skipped = engine_with_skips()
    target = echo(branch("no").run_if(value(0)))
    with pytest.raises(cs.TargetSkippedError):
        await engine.run(target)
    assert "no" not in ran and "echo" not in ran
    assert reasons(skipped) == {"branch": "ConditionFalse", "echo": "UpstreamSkipped"}


async def test_a_skip_propagates_through_a_chain_of_dependants():
    engine, skipped = engine_with_skips()

    @cs.task
    def first(x):
        ran.append("first")
        return x

    @cs.task
    def second(x):
        ran.append("second")
        return x

    @cs.task
    def collect(x, y):
        return (x, y)

    guarded = first(1).run_if(value(False))
    target = collect(second(guarded), value("other"))
    with pytest.raises(cs.TargetSkippedError):
        await engine.run(target)
    assert ran.count("first") == 0 and ran.count("second") == 0
    assert "value:other" in ran
    assert reasons(skipped) == {
        "first": "ConditionFalse",
        "second": "UpstreamSkipped",
        "collect": "UpstreamSkipped",
    }


async def test_a_skipped_target_names_the_task():
    message = "the run's target task 'branch' was skipped (ConditionFalse), so there is no result"
    with pytest.raises(cs.TargetSkippedError, match=re.escape(message)):
        await cs.Engine().run(branch("x").run_if(value(False)))


async def test_a_skipped_condition_skips_the_conditioned_task():
    engine, skipped = engine_with_skips()
    condition = value(True).run_if(value(False))
    target = branch("guarded").run_if(condition)
    with pytest.raises(cs.TargetSkippedError, match="'branch' was skipped \\(UpstreamSkipped\\)"):
        await engine.run(target)
    assert "guarded" not in ran and "value:True" not in ran
    assert reasons(skipped) == {"value": "ConditionFalse", "branch": "UpstreamSkipped"}


async def test_skipping_one_task_leaves_independent_tasks_running():
    @cs.task
    def either(x, y):
        return y

    target = either(value(1).run_if(value(False)), value(2))
    with pytest.raises(cs.TargetSkippedError):
        await cs.Engine().run(target)
    assert "value:2" in ran and "value:1" not in ran


# --- Router ----------------------------------------------------------------------------------


async def test_router_runs_only_the_selected_branch():
    engine, skipped = engine_with_skips()
    router = cs.Router(value("b"), {"a": branch("A"), "b": branch("B")})
    assert await engine.run(echo(router)) == "B"
    assert "B" in ran and "A" not in ran
    assert reasons(skipped) == {"branch": "RouterPruned"}
    (event,) = skipped
    assert event.node_id == router.routes["a"].id


async def test_router_does_not_run_the_sub_dependencies_of_a_pruned_branch():
    engine, skipped = engine_with_skips()
    pruned = add(branch("deep1"), branch("deep2"))
    router = cs.Router(value("keep"), {"keep": branch("kept"), "drop": pruned})
    assert await engine.run(echo(router)) == "kept"
    assert not {"deep1", "deep2", "add"} & set(ran)
    assert sorted((e.task_name, e.reason) for e in skipped) == [
        ("add", "RouterPruned"),
        ("branch", "RouterPruned"),
        ("branch", "RouterPruned"),
    ]


async def test_a_branch_node_needed_by_another_consumer_still_runs():
    engine, skipped = engine_with_skips()
    shared = branch("shared")
    router = cs.Router(value("other"), {"shared": shared, "other": branch("other")})
    assert await engine.run(add(echo(router), shared)) == "othershared"
    assert ran.count("shared") == 1 and "other" in ran
    assert skipped == []


async def test_a_selector_outside_the_routes_raises_a_routing_error_naming_everything():
    target = echo(cs.Router(value("zzz"), {"a": branch("A"), "b": branch("B")}))
    message = (
        "Router for argument '0' of task 'echo': selector returned 'zzz', which is not one of "
        "its routes ['a', 'b']"
    )
    with pytest.raises(cs.RoutingError, match=re.escape(message)):
        await cs.Engine().run(target)
    assert "A" not in ran and "B" not in ran and "echo" not in ran


async def test_a_routing_error_names_a_keyword_argument():
    @cs.task
    def consume(first, route):
        return route

    target = consume(1, route=cs.Router(value(3), {1: branch("one"), 2: branch("two")}))
    message = "Router for argument 'route' of task 'consume': selector returned 3"
    with pytest.raises(cs.RoutingError, match=re.escape(message)):
        await cs.Engine().run(target)


@pytest.mark.parametrize(
    ("selected", "shown"),
    [(["a"], "['a'] of unhashable type 'list'"), ({"a": 1}, "{'a': 1} of unhashable type 'dict'")],
)
async def test_an_unhashable_selector_value_raises_a_routing_error_naming_everything(
    selected, shown
):
    target = echo(cs.Router(value(selected), {"a": branch("A"), "b": branch("B")}))
    with pytest.raises(cs.RoutingError) as error:
        await cs.Engine().run(target)
    assert str(error.value) == (
        f"Router for argument '0' of task 'echo': selector returned {shown}, which cannot be "
        "one of its routes ['a', 'b']"
    )
    assert "A" not in ran and "B" not in ran and "echo" not in ran


async def test_an_unhashable_param_selector_raises_a_routing_error():
    target = echo(cs.Router(cs.Param("mode"), {"fast": branch("F")}))
    message = (
        "Router for argument '0' of task 'echo': selector returned ['fast'] of unhashable type "
        "'list', which cannot be one of its routes ['fast']"
    )
    with pytest.raises(cs.RoutingError, match=re.escape(message)):
        await cs.Engine().run(target, params={"mode": ["fast"]})


async def test_a_param_can_select_the_route():
    mode = cs.Param("mode", default="fast")
    target = echo(cs.Router(mode, {"fast": branch("F"), "slow": branch("S")}))
    engine, skipped = engine_with_skips()
    assert await engine.run(target) == "F"
    assert "S" not in ran
    assert reasons(skipped) == {"branch": "RouterPruned"}
    ran.clear()
    assert await engine.run(target, params={"mode": "slow"}) == "S"
    assert "F" not in ran


async def test_a_param_selector_outside_the_routes_raises_a_routing_error():
    mode = cs.Param("mode")
    target = echo(cs.Router(mode, {"fast": branch("F"), "slow": branch("S")}))
    message = (
        "Router for argument '0' of task 'echo': selector returned 'medium', which is not one "
        "of its routes ['fast', 'slow']"
    )
    with pytest.raises(cs.RoutingError, match=re.escape(message)):
        await cs.Engine().run(target, params={"mode": "medium"})
    assert ran == []


async def test_a_literal_selector_runs_only_its_route():
    engine, skipped = engine_with_skips()
    target = echo(cs.Router("b", {"a": branch("A"), "b": branch("B")}))
    assert await engine.run(target) == "B"
    assert "A" not in ran
    assert skipped == []  # the other route is not even part of the graph


async def test_a_skipped_route_of_a_literal_selector_skips_the_consumer():
    target = echo(cs.Router("a", {"a": branch("A").run_if(value(False)), "b": branch("B")}))
    with pytest.raises(cs.TargetSkippedError, match="'echo' was skipped \\(UpstreamSkipped\\)"):
        await cs.Engine().run(target)
    assert "A" not in ran and "B" not in ran


async def test_two_routers_can_share_a_selector():
    selector = value(2)
    target = add(
        cs.Router(selector, {1: branch("x1"), 2: branch("x2")}),
        cs.Router(selector, {1: branch("y1"), 2: branch("y2")}),
    )
    assert await cs.Engine().run(target) == "x2y2"
    assert ran.count("value:2") == 1
    assert "x1" not in ran and "y1" not in ran


async def test_a_skipped_selector_skips_the_consumer_and_every_branch():
    engine, skipped = engine_with_skips()
    selector = value("a").run_if(value(False))
    target = echo(cs.Router(selector, {"a": branch("A"), "b": add(branch("B"), "!")}))
    with pytest.raises(cs.TargetSkippedError, match="'echo' was skipped \\(UpstreamSkipped\\)"):
        await engine.run(target)
    assert not {"A", "B", "add", "echo", "value:a"} & set(ran)
    assert reasons(skipped)["echo"] == "UpstreamSkipped"
    assert sorted(e.reason for e in skipped if e.task_name in ("branch", "add")) == [
        "RouterPruned",
        "RouterPruned",
        "RouterPruned",
    ]


async def test_a_failing_selected_branch_condition_skips_the_consumer():
    target = echo(cs.Router(value("a"), {"a": branch("A").run_if(value(0)), "b": branch("B")}))
    with pytest.raises(cs.TargetSkippedError, match="'echo' was skipped"):
        await cs.Engine().run(target)
    assert "A" not in ran and "B" not in ran


# --- map -------------------------------------------------------------------------------------


async def test_map_returns_results_in_order():
    assert await cs.Engine().run(add.map(a=[1, 2, 3], b=[10, 20, 30])) == [11, 22, 33]
    assert ran.count("add") == 3


async def test_map_of_empty_iterables_is_an_empty_list():
    assert await cs.Engine().run(add.map(a=[], b=())) == []
    assert ran == []


async def test_map_accepts_lazy_result_iterables():
    @cs.task
    def numbers(n):
        return list(range(n))

    assert await cs.Engine().run(add.map(a=numbers(4), b=[1, 1, 1, 1])) == [1, 2, 3, 4]


async def test_map_over_an_upstream_map():
    doubled = add.map(a=[1, 2, 3], b=[1, 2, 3])
    assert await cs.Engine().run(add.map(a=doubled, b=doubled)) == [4, 8, 12]


async def test_map_with_lazy_iterables_of_different_lengths_fails_at_run_time():
    @cs.task
    def numbers(n):
        return list(range(n))

    message = "add.map(): iterables have different lengths (a=2, b=3)"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        await cs.Engine().run(add.map(a=numbers(2), b=numbers(3)))
    assert "add" not in ran


async def test_map_of_an_async_task_runs_the_items_concurrently():
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await cs.Engine().run(slow.map(x=range(10))) == list(range(10))
    assert loop.time() - start == pytest.approx(1, abs=0.01)


# --- wait, params, concurrency ---------------------------------------------------------------


async def test_wait_advances_virtual_time():
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await cs.Engine().run(cs.wait(2)) == 2
    assert loop.time() - start == pytest.approx(2, abs=0.01)


async def test_wait_for_a_lazy_number_of_seconds():
    loop = asyncio.get_running_loop()
    start = loop.time()
    await cs.Engine().run(echo(cs.wait(add(1, 2))))
    assert loop.time() - start == pytest.approx(3, abs=0.01)


async def test_wait_forever_lasts_until_the_run_is_cancelled():
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cs.Engine().run(cs.wait(math.inf)), timeout=3600)
    assert loop.time() - start == pytest.approx(3600, abs=0.01)


@pytest.mark.parametrize(
    ("seconds", "shown"), [(math.nan, "float nan"), (-1, "int -1"), (True, "bool True")]
)
async def test_a_lazy_number_of_seconds_is_checked_when_the_wait_runs(seconds, shown):
    target = echo(cs.wait(value(seconds)))
    with pytest.raises(cs.DefinitionError) as error:
        await cs.Engine().run(target)
    assert str(error.value) == (
        f"wait() needs a non-negative number of seconds from task 'value', got {shown}"
    )
    assert "echo" not in ran


async def test_seconds_from_a_param_are_checked_when_the_wait_runs():
    target = echo(cs.wait(cs.Param("delay")))
    with pytest.raises(cs.DefinitionError) as error:
        await cs.Engine().run(target, params={"delay": "5"})
    assert str(error.value) == (
        "wait() needs a non-negative number of seconds from Param 'delay', got str '5'"
    )
    assert await cs.Engine().run(target, params={"delay": 0.5}) == 0.5


async def test_param_default_is_used():
    n = cs.Param("n", default=3)
    assert await cs.Engine().run(add(n, 1)) == 4


async def test_params_override_the_default():
    n = cs.Param("n", default=3)
    assert await cs.Engine().run(add(n, 1), params={"n": 5}) == 6


async def test_a_missing_required_param_fails_before_any_task_runs():
    n = cs.Param("n")
    message = "Param 'n' has no default and was not given: pass params={'n': ...} to run()"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        await cs.Engine().run(add(value(1), n))
    assert ran == []


async def test_sync_and_async_tasks_mix():
    assert await cs.Engine().run(add(slow(1), value(2))) == 3
    assert ran == ["value:2", "add"]


async def test_tasks_in_one_stage_run_concurrently():
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await cs.Engine().run(add(slow(1), slow(2))) == 3
    assert loop.time() - start == pytest.approx(1, abs=0.01)


async def test_stages_run_one_after_another():
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await cs.Engine().run(slow(slow(slow(7)))) == 7
    assert loop.time() - start == pytest.approx(3, abs=0.01)


def test_run_helper_works_from_sync_code():
    n = cs.Param("n", default=1)
    assert cs.run(add(n, value(2))) == 3
    assert cs.run(add(n, 10), params={"n": 5}) == 15
