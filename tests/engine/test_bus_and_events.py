"""MessageBus delivery and the events and statistics a run produces."""

import logging
import re

import pytest

import cascade as cs


@cs.task
def add(a, b):
    return a + b


@cs.task
def double(x):
    return 2 * x


def started(run_id: str = "run-x") -> cs.RunStarted:
    return cs.RunStarted(run_id, "target", {})


# --- MessageBus ----------------------------------------------------------------------------------


def test_a_subscriber_gets_only_its_event_class():
    bus = cs.MessageBus()
    got = []
    bus.subscribe(cs.RunStarted, got.append)
    event = started()
    bus.publish(event)
    bus.publish(cs.RunFinished("run-x", "succeeded", 0.0, 1))
    assert got == [event]


def test_a_subscriber_to_the_base_event_gets_everything():
    bus = cs.MessageBus()
    got = []
    bus.subscribe(cs.Event, got.append)
    events = [
        started(),
        cs.TaskExecutionStarted("run-x", "t", 1, 1),
        cs.RunFinished("run-x", "succeeded", 0.0, 1),
    ]
    for event in events:
        bus.publish(event)
    assert got == events


def test_handlers_are_called_in_subscription_order():
    bus = cs.MessageBus()
    calls = []
    bus.subscribe(cs.RunStarted, lambda e: calls.append("specific"))
    bus.subscribe(cs.Event, lambda e: calls.append("base"))
    bus.subscribe(cs.RunStarted, lambda e: calls.append("specific again"))
    bus.publish(started())
    assert calls == ["specific", "specific again", "base"]


def test_the_returned_callable_unsubscribes():
    bus = cs.MessageBus()
    got = []
    unsubscribe = bus.subscribe(cs.RunStarted, got.append)
    first = started("run-1")
    bus.publish(first)
    unsubscribe()
    bus.publish(started("run-2"))
    assert got == [first]
    assert not bus.wants(cs.RunStarted)
    unsubscribe()  # a second call does nothing


def test_unsubscribing_an_unknown_handler_is_not_an_error():
    cs.MessageBus().unsubscribe(cs.RunStarted, print)


def test_subscribe_needs_an_event_class():
    message = "subscribe() needs an Event subclass, got <class 'str'>"
    with pytest.raises(TypeError, match=re.escape(message)):
        cs.MessageBus().subscribe(str, print)


def test_wants_is_true_only_with_a_matching_subscriber():
    bus = cs.MessageBus()
    assert not bus.wants(cs.RunStarted)
    bus.subscribe(cs.TaskBlocked, print)
    assert not bus.wants(cs.RunStarted)
    bus.subscribe(cs.Event, print)
    assert bus.wants(cs.RunStarted)
    assert bus.wants(cs.TaskRetrying)


def test_wants_sees_a_subscription_made_after_a_publish():
    bus = cs.MessageBus()
    bus.publish(started())  # caches "no handlers" for RunStarted
    got = []
    bus.subscribe(cs.Event, got.append)
    assert bus.wants(cs.RunStarted)
    event = started()
    bus.publish(event)
    assert got == [event]


def test_the_bus_is_idle_only_while_nobody_subscribes():
    bus = cs.MessageBus()
    assert bus.idle
    first = bus.subscribe(cs.RunStarted, print)
    second = bus.subscribe(cs.RunFinished, print)
    assert not bus.idle
    first()
    assert not bus.idle  # one handler left
    second()
    assert bus.idle


def test_a_failing_handler_is_logged_and_unsubscribed(caplog):
    bus = cs.MessageBus()
    calls = []

    def broken(event):
        calls.append(event)
        raise RuntimeError("handler broke")

    got = []
    bus.subscribe(cs.Event, broken)
    bus.subscribe(cs.RunStarted, got.append)
    first, second = started("run-1"), started("run-2")
    with caplog.at_level(logging.ERROR, logger="cascade.bus"):
        bus.publish(first)
        bus.publish(second)
    assert calls == [first]
    assert got == [first, second]  # the other handler still gets both
    [record] = [r for r in caplog.records if r.name == "cascade.bus"]
    assert record.getMessage().startswith("event handler ")
    assert record.getMessage().endswith(f"failed on {first!r}; unsubscribed")
    assert "handler broke" in record.exc_text
    assert not bus.wants(cs.RunFinished)


async def test_a_failing_handler_does_not_fail_the_run(caplog):
    engine = cs.Engine()
    calls = []

    def broken(event):
        calls.append(type(event).__name__)
        raise RuntimeError("handler broke")

    engine.bus.subscribe(cs.TaskExecutionStarted, broken)
    with caplog.at_level(logging.ERROR, logger="cascade.bus"):
        assert await engine.run(add(add(1, 2), add(3, 4))) == 10
    assert calls == ["TaskExecutionStarted"]
    assert engine.statistics().runs_succeeded == 1


def test_publishing_without_subscribers_keeps_no_state_per_event():
    bus = cs.MessageBus()
    for n in range(100_000):
        bus.publish(cs.TaskExecutionStarted("run-x", "t", n, 1))
        bus.publish(cs.TaskExecutionFinished("run-x", "t", n, "succeeded", 0.0))
    assert bus._handlers == {}
    assert bus._dispatch == {cs.TaskExecutionStarted: (), cs.TaskExecutionFinished: ()}


# --- events of a run -----------------------------------------------------------------------------


async def test_a_run_publishes_its_events_in_order():
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.Event, events.append)
    first = add(1, 2)
    assert await engine.run(double(first), {"unused": 1}) == 6
    run_id = events[0].run_id
    assert all(e.run_id == run_id for e in events)
    assert [type(e).__name__ for e in events] == [
        "RunStarted",
        "TaskExecutionStarted",
        "TaskExecutionFinished",
        "TaskExecutionStarted",
        "TaskExecutionFinished",
        "RunFinished",
    ]
    assert (events[0].target_name, dict(events[0].params)) == ("double", {"unused": 1})
    task_events = events[1:5]
    assert [(e.task_name, e.node_id) for e in task_events] == [
        ("add", first.id),
        ("add", first.id),
        ("double", task_events[2].node_id),
        ("double", task_events[2].node_id),
    ]
    assert [e.attempt for e in task_events[::2]] == [1, 1]
    assert [(e.status, e.error) for e in task_events[1::2]] == [
        ("succeeded", None),
        ("succeeded", None),
    ]
    finished = events[-1]
    assert (finished.status, finished.generations, finished.error) == ("succeeded", 1, None)


async def test_run_ids_differ_between_runs():
    engine = cs.Engine()
    starts = []
    engine.bus.subscribe(cs.RunStarted, starts.append)
    await engine.run(add(1, 2))
    await engine.run(add(1, 2))
    assert len({e.run_id for e in starts}) == 2


async def test_run_params_are_a_copy_and_no_params_are_read_only():
    """A run given params keeps a copy; runs given none share one empty mapping nobody
    can change (a swarm's runs need no empty dict each)."""
    engine = cs.Engine()
    starts = []
    engine.bus.subscribe(cs.RunStarted, starts.append)
    given = {"x": 1}
    await engine.run(add(1, 2), params=given)
    await engine.run(add(1, 2))
    await engine.run(add(1, 2), params={})
    assert starts[0].params == given and starts[0].params is not given
    assert starts[1].params == {} and starts[1].params is starts[2].params
    with pytest.raises(TypeError):
        starts[1].params["x"] = 2  # type: ignore[index]


async def test_task_and_run_durations_are_measured_on_the_loop_clock():
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskExecutionFinished, events.append)
    engine.bus.subscribe(cs.RunFinished, events.append)

    @cs.task
    def after(x):
        return x

    await engine.run(after(cs.wait(2)))
    assert [(type(e).__name__, e.duration) for e in events] == [
        ("TaskExecutionFinished", pytest.approx(2, abs=0.01)),
        ("TaskExecutionFinished", pytest.approx(0, abs=0.01)),
        ("RunFinished", pytest.approx(2, abs=0.01)),
    ]


async def test_a_failed_task_and_run_carry_the_status_and_error():
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskExecutionFinished, events.append)
    engine.bus.subscribe(cs.RunFinished, events.append)

    @cs.task
    def broken():
        raise KeyError("gone")

    with pytest.raises(KeyError):
        await engine.run(broken())
    task_finished, run_finished = events
    assert (task_finished.status, task_finished.error) == ("failed", "KeyError('gone')")
    assert (run_finished.status, run_finished.error) == ("failed", "KeyError('gone')")
    assert run_finished.generations == 0


async def test_run_finished_counts_the_generations_of_tail_calls():
    engine = cs.Engine()
    finished = []
    engine.bus.subscribe(cs.RunFinished, finished.append)

    @cs.task
    def countdown(n):
        return n if n == 0 else countdown(n - 1)

    await engine.run(countdown(4))
    assert [(e.status, e.generations) for e in finished] == [("succeeded", 5)]


@cs.task
def no():
    return False


@cs.task
def pick_a():
    return "a"


@cs.task
def chosen(value):
    return value


def routed() -> cs.LazyResult:
    """A run of 3 tasks (pick_a, add, chosen) whose route "b" (double, add) is pruned."""
    return chosen(cs.Router(pick_a(), {"a": add(1, 1), "b": double(add(2, 2))}))


async def test_pruned_router_branches_publish_task_skipped():
    engine = cs.Engine()
    skipped = []
    engine.bus.subscribe(cs.TaskSkipped, skipped.append)
    assert await engine.run(routed()) == 2
    assert sorted((e.task_name, e.reason) for e in skipped) == [
        ("add", "RouterPruned"),
        ("double", "RouterPruned"),
    ]


async def test_a_false_condition_publishes_task_skipped():
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskSkipped, events.append)
    engine.bus.subscribe(cs.RunFinished, events.append)
    with pytest.raises(cs.TargetSkippedError):
        await engine.run(double(add(1, 2).run_if(no())))
    assert [type(e).__name__ for e in events] == ["TaskSkipped", "TaskSkipped", "RunFinished"]
    assert [(e.task_name, e.reason) for e in events[:2]] == [
        ("add", "ConditionFalse"),
        ("double", "UpstreamSkipped"),
    ]
    assert events[2].status == "failed"


# --- statistics ----------------------------------------------------------------------------------


async def test_statistics_count_runs_generations_and_tasks():
    engine = cs.Engine()
    assert engine.statistics() == cs.EngineStatistics(0, 0, 0, 0, 0, 0, 0, 0, 0)
    attempts = []

    @cs.task
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return 1

    @cs.task
    def broken():
        raise ValueError("no")

    @cs.task
    def countdown(n):
        return n if n == 0 else countdown(n - 1)

    await engine.run(add(1, 2))  # 1 generation, 1 task
    await engine.run(countdown(2))  # 3 generations, 3 tasks
    await engine.run(add(flaky().with_retry(3), 1))  # 2 retries, 2 tasks
    await engine.run(routed())  # 3 tasks, 2 skipped
    with pytest.raises(ValueError, match="no"):
        await engine.run(broken())
    stats = engine.statistics()
    assert isinstance(stats, cs.EngineStatistics)
    assert stats == cs.EngineStatistics(
        runs_started=5,
        runs_active=0,
        runs_succeeded=4,
        runs_failed=1,
        runs_cancelled=0,
        generations=6,
        tasks_executed=9,
        tasks_skipped=2,
        tasks_retried=2,
    )


async def test_statistics_count_the_same_with_and_without_subscribers():
    quiet, observed = cs.Engine(), cs.Engine()
    observed.bus.subscribe(cs.Event, lambda e: None)
    for engine in (quiet, observed):
        await engine.run(add(double(1), 1))
        await engine.run(double.map(x=[1, 2, 3]))
    assert quiet.statistics() == observed.statistics()
    assert quiet.statistics().tasks_executed == 2 + 3


async def test_runs_active_counts_the_runs_in_progress():
    engine = cs.Engine()
    seen = []

    @cs.task
    def probe():
        seen.append(engine.statistics().runs_active)

    await engine.run(probe())
    assert seen == [1]
    assert engine.statistics().runs_active == 0


def test_statistics_fields_mirror_the_engine_counters():
    import dataclasses

    from cascade.runtime.engine import _Counters

    stats = [f.name for f in dataclasses.fields(cs.EngineStatistics)]
    assert stats == [f.name for f in dataclasses.fields(_Counters)]
