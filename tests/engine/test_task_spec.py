"""@cs.task and the declarative spec: calls are recorded, never run; bad input fails early."""

import math
import re
from fractions import Fraction

import pytest

import cascade as cs

calls: list[str] = []


@cs.task
def add(a, b):
    calls.append("add")
    return a + b


@cs.task
async def fetch(url):
    calls.append("fetch")
    return url


@cs.task(name="renamed")
def original(x):
    return x


@pytest.fixture(autouse=True)
def _clear_calls():
    calls.clear()


def test_sync_function_becomes_a_task():
    assert isinstance(add, cs.Task)
    assert add.name == "add"
    assert add.is_async is False
    assert add.__name__ == "add"  # functools.update_wrapper keeps the function's metadata


def test_async_function_becomes_an_async_task():
    assert isinstance(fetch, cs.Task)
    assert fetch.name == "fetch"
    assert fetch.is_async is True


def test_task_name_can_be_given_explicitly():
    assert original.name == "renamed"
    assert original(1).task is original


def test_calling_a_task_returns_a_lazy_result_and_runs_nothing():
    lazy = add(1, 2)
    remote = fetch("http://x")
    assert isinstance(lazy, cs.LazyResult)
    assert isinstance(remote, cs.LazyResult)
    assert lazy.task is add and lazy.args == (1, 2) and lazy.kwargs == {}
    assert calls == []


def test_each_call_is_a_distinct_lazy_result():
    first, second = add(1, 2), add(1, 2)
    assert first is not second
    assert first.id != second.id


def test_calling_with_lazy_results_builds_without_running():
    total = add(add(1, 2), b=add(3, 4))
    assert isinstance(total.args[0], cs.LazyResult)
    assert isinstance(total.kwargs["b"], cs.LazyResult)
    assert calls == []


def test_map_returns_a_mapped_lazy_result_and_runs_nothing():
    mapped = add.map(a=[1, 2], b=[3, 4])
    assert isinstance(mapped, cs.MappedLazyResult)
    assert isinstance(mapped, cs.LazyResult)
    assert mapped.kwargs == {"a": (1, 2), "b": (3, 4)}
    assert calls == []


def test_options_configure_the_call_in_place_and_chain():
    flag = add(0, 1)
    lazy = add(1, 2)
    assert lazy.run_if(flag).with_retry(3, delay=0.5).with_constraints(cpu_slot=1) is lazy
    assert lazy.condition is flag
    assert (lazy.retry.max_attempts, lazy.retry.delay, lazy.retry.backoff) == (3, 0.5, 1.0)
    assert lazy.constraints == {"cpu_slot": 1}


def test_unknown_keyword_is_a_definition_error():
    message = (
        "task 'add' cannot be called like this: got an unexpected keyword argument 'c' "
        "(signature: add(a, b))"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2, c=3)


def test_missing_argument_is_a_definition_error():
    message = (
        "task 'add' cannot be called like this: missing a required argument: 'b' "
        "(signature: add(a, b))"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1)


def test_too_many_positional_arguments_is_a_definition_error():
    message = (
        "task 'add' cannot be called like this: too many positional arguments "
        "(signature: add(a, b))"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2, 3)


def test_binding_error_uses_the_explicit_task_name():
    message = "task 'renamed' cannot be called like this: missing a required argument: 'x'"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        original()


def test_definition_error_is_also_a_type_error():
    with pytest.raises(TypeError):
        add(1)


def test_run_if_needs_a_lazy_result():
    message = (
        "run_if() of task 'add' needs a LazyResult (the result of calling a task), got bool True"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2).run_if(True)


def test_with_retry_needs_at_least_one_attempt():
    message = "with_retry() of task 'add': max_attempts must be an int >= 1, got int 0"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2).with_retry(0)


def test_with_retry_rejects_a_negative_delay():
    message = (
        "with_retry() of task 'add': delay must be a finite number of seconds >= 0, got int -1"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2).with_retry(2, delay=-1)


def test_with_retry_rejects_a_shrinking_backoff():
    message = "with_retry() of task 'add': backoff must be a finite number >= 1, got float 0.5"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2).with_retry(2, backoff=0.5)


def test_with_constraints_rejects_a_negative_amount():
    message = (
        "with_constraints() of task 'add': cpu_slot=-1 must be a non-negative number or a "
        "LazyResult"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add(1, 2).with_constraints(cpu_slot=-1)


def test_map_with_literal_iterables_of_different_lengths_names_each_length():
    message = "add.map(): iterables have different lengths (a=2, b=3)"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add.map(a=[1, 2], b=[1, 2, 3])


def test_map_with_a_non_iterable_is_a_definition_error():
    message = "add.map(): b= must be an iterable or a LazyResult, got 5"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add.map(a=[1], b=5)


def test_map_with_a_string_is_a_definition_error():
    message = "add.map(): a= must be an iterable or a LazyResult, got 'ab'"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add.map(a="ab", b=[1, 2])


def test_map_with_an_unknown_keyword_is_a_definition_error():
    message = "task 'add' cannot be called like this: got an unexpected keyword argument 'c'"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        add.map(a=[1], b=[2], c=[3])


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-1, "int -1"),
        (-0.5, "float -0.5"),
        (math.nan, "float nan"),
        (-math.inf, "float -inf"),
        (True, "bool True"),  # not one second
        ("1", "str '1'"),
        (None, "NoneType None"),
    ],
)
def test_wait_refuses_what_is_not_a_number_of_seconds(seconds, shown):
    with pytest.raises(cs.DefinitionError) as error:
        cs.wait(seconds)
    assert str(error.value) == f"wait() needs a non-negative number of seconds, got {shown}"


@pytest.mark.parametrize("seconds", [0, 0.0, 2, 0.25, math.inf, Fraction(1, 3)])
def test_wait_accepts_zero_positive_numbers_and_infinity(seconds):
    assert cs.wait(seconds).args == (seconds,)


def test_wait_accepts_a_lazy_result_or_param():
    assert cs.wait(0).task.name == "wait"
    assert isinstance(cs.wait(add(1, 2)), cs.LazyResult)
    assert isinstance(cs.wait(cs.Param("delay")), cs.LazyResult)


def test_router_with_no_routes_is_a_definition_error():
    message = "Router needs a non-empty mapping of routes {key: LazyResult}, got {}"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        cs.Router(add(1, 2), {})


def test_router_with_an_unhashable_literal_selector_is_a_routing_error():
    message = "Router selector ['a'] of unhashable type 'list' cannot be one of its routes ['a']"
    with pytest.raises(cs.RoutingError) as error:
        cs.Router(["a"], {"a": add(1, 2)})
    assert str(error.value) == message


def test_router_with_a_literal_selector_not_in_its_routes_is_a_routing_error():
    message = "Router selector 'c' is not one of its routes ['a', 'b']"
    with pytest.raises(cs.RoutingError, match=re.escape(message)):
        cs.Router("c", {"a": add(1, 2), "b": add(3, 4)})


def test_engine_run_of_a_non_lazy_result_is_a_definition_error():
    message = "Engine.run() needs a LazyResult (the result of calling a task), got int 42"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        cs.run(42)


async def test_engine_run_of_a_non_lazy_result_fails_before_running():
    message = "Engine.run() needs a LazyResult (the result of calling a task), got int 42"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        await cs.Engine().run(42)


def test_build_graph_of_a_non_lazy_result_is_a_definition_error():
    message = "a workflow target must be a LazyResult (the result of calling a task), got int 3"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        cs.build_graph(3)


def test_task_needs_a_callable():
    with pytest.raises(cs.DefinitionError, match=re.escape("@task needs a function, got 3")):
        cs.task(3)
