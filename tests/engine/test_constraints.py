"""Constraints: system capacity (`with_constraints`), global policies, and their bus control."""

import asyncio
import logging
import re

import pytest

import cascade as cs
from cascade.connectors import LocalBroker, LocalBusConnector


class Recorder:
    """Collects the events of the given types published on a bus."""

    def __init__(self, bus: cs.MessageBus, *types: type) -> None:
        self.events = []
        for event_type in types:
            bus.subscribe(event_type, self.events.append)

    def of(self, event_type: type) -> list:
        return [e for e in self.events if isinstance(e, event_type)]


class Probe:
    """Measures how many tasks run at once and when each one starts."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.starts: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.starts.append(now())
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.running -= 1


def now() -> float:
    return asyncio.get_running_loop().time()


@cs.task
def gather(*values):
    return list(values)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


# --- system resources ----------------------------------------------------------------------------


async def test_a_one_slot_capacity_serialises_the_tasks_of_a_stage():
    probe = Probe()

    @cs.task
    async def crunch(n):
        await probe.sleep(1)
        return now()

    engine = cs.Engine(system_resources={"cpu_slot": 1})
    events = Recorder(engine.bus, cs.TaskBlocked, cs.ResourceAcquired, cs.ResourceReleased)
    start = now()
    finished = await engine.run(gather(*(crunch(n).with_constraints(cpu_slot=1) for n in (1, 2))))
    assert probe.peak == 1
    assert sorted(t - start for t in finished) == pytest.approx([1, 2], abs=0.01)
    assert now() - start == pytest.approx(2, abs=0.01)
    blocked = events.of(cs.TaskBlocked)
    assert [(e.task_name, e.reason) for e in blocked] == [
        ("crunch", "waiting for system resources {'cpu_slot': 1}")
    ]
    assert [type(e).__name__ for e in events.events if not isinstance(e, cs.TaskBlocked)] == [
        "ResourceAcquired",
        "ResourceReleased",
        "ResourceAcquired",
        "ResourceReleased",
    ]
    for event in events.of(cs.ResourceAcquired) + events.of(cs.ResourceReleased):
        assert (event.task_name, dict(event.resources)) == ("crunch", {"cpu_slot": 1})
    assert engine.resource_manager.available == {"cpu_slot": 1}


async def test_a_two_slot_capacity_runs_two_at_once():
    probe = Probe()

    @cs.task
    async def crunch(n):
        await probe.sleep(1)

    engine = cs.Engine(system_resources={"cpu_slot": 2})
    start = now()
    await engine.run(gather(*(crunch(n).with_constraints(cpu_slot=1) for n in range(4))))
    assert probe.peak == 2
    assert now() - start == pytest.approx(2, abs=0.01)


async def test_each_element_of_a_map_takes_its_own_slot():
    probe = Probe()

    @cs.task
    async def crunch(n):
        await probe.sleep(1)
        return n

    engine = cs.Engine(system_resources={"cpu_slot": 1})
    events = Recorder(engine.bus, cs.ResourceAcquired, cs.TaskBlocked)
    start = now()
    assert await engine.run(crunch.map(n=range(3)).with_constraints(cpu_slot=1)) == [0, 1, 2]
    assert probe.peak == 1
    assert now() - start == pytest.approx(3, abs=0.01)
    assert len(events.of(cs.ResourceAcquired)) == 3
    assert len(events.of(cs.TaskBlocked)) == 2


async def test_a_requirement_can_come_from_an_upstream_result():
    @cs.task
    def size():
        return 2

    @cs.task
    def work():
        return "done"

    engine = cs.Engine(system_resources={"cpu_slot": 2})
    events = Recorder(engine.bus, cs.ResourceAcquired)
    assert await engine.run(work().with_constraints(cpu_slot=size())) == "done"
    assert [dict(e.resources) for e in events.events] == [{"cpu_slot": 2}]


async def test_a_requirement_larger_than_the_capacity_is_a_capacity_error():
    @cs.task
    def greedy():
        return 1

    engine = cs.Engine(system_resources={"cpu_slot": 1})
    message = "task 'greedy' requires cpu_slot=2 but the engine's capacity is 1"
    with pytest.raises(cs.CapacityError, match=re.escape(message)):
        await engine.run(greedy().with_constraints(cpu_slot=2))


async def test_a_requirement_for_an_unknown_system_resource_is_a_capacity_error():
    @cs.task
    def needs_gpu():
        return 1

    engine = cs.Engine(system_resources={"cpu_slot": 1, "memory": 4})
    message = (
        "task 'needs_gpu' requires gpu=1 but the engine's system_resources define only "
        "['cpu_slot', 'memory']"
    )
    with pytest.raises(cs.CapacityError, match=re.escape(message)):
        await engine.run(needs_gpu().with_constraints(gpu=1))


def test_a_negative_capacity_is_a_capacity_error():
    message = "system resource 'cpu_slot' has negative capacity -1"
    with pytest.raises(cs.CapacityError, match=re.escape(message)):
        cs.Engine(system_resources={"cpu_slot": -1})


async def test_without_system_resources_constraints_are_free():
    probe = Probe()

    @cs.task
    async def crunch(n):
        await probe.sleep(1)

    engine = cs.Engine()
    events = Recorder(engine.bus, cs.TaskBlocked)
    start = now()
    await engine.run(gather(*(crunch(n).with_constraints(cpu_slot=5, gpu=3) for n in range(3))))
    assert probe.peak == 3
    assert now() - start == pytest.approx(1, abs=0.01)
    assert events.events == []


async def test_capacity_is_given_back_when_the_task_fails():
    @cs.task
    def broken():
        raise RuntimeError("boom")

    engine = cs.Engine(system_resources={"cpu_slot": 1})
    with pytest.raises(RuntimeError, match=r"^boom$"):
        await engine.run(broken().with_constraints(cpu_slot=1))
    assert engine.resource_manager.available == {"cpu_slot": 1}


# --- global constraints set in code --------------------------------------------------------------


def pause(task_name: str, id: str = "hold") -> cs.GlobalConstraint:
    return cs.GlobalConstraint(id=id, scope=f"task:{task_name}", type="pause")


async def test_a_pause_blocks_a_task_until_it_is_removed():
    ran = []

    @cs.task
    def slow():
        ran.append(now())
        return "done"

    engine = cs.Engine()
    events = Recorder(engine.bus, cs.TaskBlocked)
    engine.constraint_manager.update(pause("slow"))
    run = asyncio.create_task(engine.run(slow()))
    await asyncio.sleep(5)
    assert ran == []
    assert not run.done()
    assert [(e.task_name, e.reason) for e in events.events] == [
        ("slow", "paused by constraint 'hold'")
    ]
    engine.constraint_manager.remove("hold")
    assert await run == "done"
    assert ran == [pytest.approx(5, abs=0.01)]


async def test_a_pause_scoped_to_one_task_lets_the_others_run():
    ran = []

    @cs.task
    def free():
        ran.append("free")

    @cs.task
    def slow():
        ran.append("slow")

    engine = cs.Engine()
    engine.constraint_manager.update(pause("slow"))
    run = asyncio.create_task(engine.run(gather(free(), slow())))
    await asyncio.sleep(1)
    assert ran == ["free"]
    engine.constraint_manager.remove("hold")
    await run
    assert ran == ["free", "slow"]


async def test_a_global_pause_blocks_every_task():
    ran = []

    @cs.task
    def anything():
        ran.append("anything")

    engine = cs.Engine()
    engine.constraint_manager.update(cs.GlobalConstraint(id="all", scope="global", type="pause"))
    run = asyncio.create_task(engine.run(anything()))
    await asyncio.sleep(1)
    assert ran == []
    engine.constraint_manager.remove("all")
    await run
    assert ran == ["anything"]


def test_removing_an_absent_constraint_is_not_an_error():
    manager = cs.ConstraintManager()
    manager.remove("nothing")
    assert not manager.active


async def test_a_concurrency_limit_caps_the_tasks_of_a_stage():
    probe = Probe()

    @cs.task
    async def job(n):
        await probe.sleep(1)

    engine = cs.Engine()
    limit = cs.GlobalConstraint(id="two", scope="task:job", type="concurrency", params={"limit": 2})
    engine.constraint_manager.update(limit)
    start = now()
    await engine.run(gather(*(job(n) for n in range(6))))
    assert probe.peak == 2
    assert now() - start == pytest.approx(3, abs=0.01)


async def test_a_concurrency_limit_caps_the_elements_of_a_map():
    probe = Probe()

    @cs.task
    async def job(n):
        await probe.sleep(1)
        return n

    engine = cs.Engine()
    limit = cs.GlobalConstraint(id="two", scope="task:job", type="concurrency", params={"limit": 2})
    engine.constraint_manager.update(limit)
    start = now()
    assert await engine.run(job.map(n=range(6))) == list(range(6))
    assert probe.peak == 2
    assert now() - start == pytest.approx(3, abs=0.01)


async def test_a_rate_limit_spaces_task_starts():
    probe = Probe()

    @cs.task
    async def ping(n):
        await probe.sleep(0)

    engine = cs.Engine()
    rate = cs.GlobalConstraint(id="rate", scope="task:ping", type="rate_limit", params={"rate": 2})
    engine.constraint_manager.update(rate)
    start = now()
    await engine.run(gather(*(ping(n) for n in range(6))))
    offsets = sorted(t - start for t in probe.starts)
    assert offsets == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5], abs=0.01)
    assert now() - start == pytest.approx(2.5, abs=0.01)


async def test_a_rate_limit_with_a_burst_lets_the_first_ones_start_at_once():
    probe = Probe()

    @cs.task
    async def ping(n):
        await probe.sleep(0)

    engine = cs.Engine()
    params = {"rate": 1, "burst": 3}
    engine.constraint_manager.update(
        cs.GlobalConstraint(id="rate", scope="task:ping", type="rate_limit", params=params)
    )
    start = now()
    await engine.run(gather(*(ping(n) for n in range(5))))
    offsets = sorted(t - start for t in probe.starts)
    assert offsets == pytest.approx([0, 0, 0, 1, 2], abs=0.01)


def test_an_unknown_constraint_type_is_a_value_error():
    message = (
        "unknown constraint type 'throttle': valid types are ['concurrency', 'pause', 'rate_limit']"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        cs.ConstraintManager().update(cs.GlobalConstraint(id="x", scope="global", type="throttle"))


@pytest.mark.parametrize(
    ("type_", "params", "message"),
    [
        ("concurrency", {}, "concurrency constraint needs params.limit >= 1, got None"),
        ("concurrency", {"limit": 0}, "concurrency constraint needs params.limit >= 1, got 0"),
        ("rate_limit", {}, "rate_limit constraint needs params.rate > 0, got None"),
        ("rate_limit", {"rate": -1}, "rate_limit constraint needs params.rate > 0, got -1"),
        (
            "rate_limit",
            {"rate": 1, "burst": 0.5},
            "rate_limit constraint needs params.burst >= 1, got 0.5",
        ),
    ],
)
def test_bad_constraint_params_are_a_value_error(type_, params, message):
    manager = cs.ConstraintManager()
    with pytest.raises(ValueError, match=re.escape(message)):
        manager.update(cs.GlobalConstraint(id="x", scope="global", type=type_, params=params))
    assert manager.constraints() == ()


def test_a_bad_constraint_scope_is_a_value_error():
    message = "constraint scope must be 'global' or 'task:<name>', got 'everything'"
    with pytest.raises(ValueError, match=re.escape(message)):
        cs.ConstraintManager().update(cs.GlobalConstraint(id="x", scope="everything", type="pause"))


def test_update_replaces_a_constraint_with_the_same_id():
    manager = cs.ConstraintManager()
    manager.update(pause("a", id="same"))
    manager.update(pause("b", id="same"))
    assert manager.constraints() == (pause("b", id="same"),)


# --- constraints from the connector --------------------------------------------------------------

TOPIC = "cascade/constraints/pause-x"


@pytest.fixture
async def control(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    yield connector
    await connector.disconnect()


async def test_a_retained_pause_message_blocks_a_task_until_it_is_cleared(broker, control):
    ran = []

    @cs.task
    def slow():
        ran.append(now())
        return "done"

    engine = cs.Engine(connector=LocalBusConnector(broker))
    events = Recorder(engine.bus, cs.TaskBlocked)
    await control.publish(TOPIC, {"type": "pause", "scope": "task:slow"}, retain=True)
    run = asyncio.create_task(engine.run(slow()))
    await asyncio.sleep(5)
    assert ran == []
    assert [e.reason for e in events.events] == [f"paused by constraint {TOPIC!r}"]
    await control.publish(TOPIC, None, retain=True)
    assert await run == "done"
    assert ran == [pytest.approx(5, abs=0.01)]
    assert not engine.constraint_manager.active


async def test_a_pause_message_published_during_the_run_blocks_later_tasks(broker, control):
    ran = []

    @cs.task
    async def first():
        await asyncio.sleep(1)
        ran.append("first")

    @cs.task
    def slow(after):
        ran.append("slow")
        return "done"

    engine = cs.Engine(connector=LocalBusConnector(broker))
    run = asyncio.create_task(engine.run(slow(first())))
    await settle()
    await control.publish(TOPIC, '{"type": "pause", "scope": "task:slow"}', retain=True)
    await asyncio.sleep(5)
    assert ran == ["first"]
    await control.publish(TOPIC, b"", retain=True)
    assert await run == "done"
    assert ran == ["first", "slow"]


async def test_an_invalid_constraint_message_is_logged_and_ignored(broker, control, caplog):
    @cs.task
    async def slow():
        await asyncio.sleep(1)
        return "done"

    engine = cs.Engine(connector=LocalBusConnector(broker))
    await control.publish("cascade/constraints/bad", {"scope": "global"}, retain=True)
    await control.publish("cascade/constraints/unknown", {"type": "throttle"}, retain=True)
    with caplog.at_level(logging.WARNING, logger="cascade.constraints"):
        assert await engine.run(slow()) == "done"
    messages = [r.getMessage() for r in caplog.records if r.name == "cascade.constraints"]
    assert messages == [
        "ignoring constraint message on 'cascade/constraints/bad': expected a mapping with a "
        "'type' key, got {'scope': 'global'}",
        "ignoring constraint message on 'cascade/constraints/unknown': unknown constraint type "
        "'throttle': valid types are ['concurrency', 'pause', 'rate_limit']",
    ]
    assert not engine.constraint_manager.active


async def test_the_engine_connects_its_connector_only_while_a_run_is_active(broker):
    connector = LocalBusConnector(broker)
    seen = []

    @cs.task
    def probe():
        seen.append(connector.is_connected)

    engine = cs.Engine(connector=connector)
    assert not connector.is_connected
    await engine.run(probe())
    assert seen == [True]
    assert not connector.is_connected
    assert broker.statistics().subscriptions == 0


async def test_the_connection_is_shared_by_concurrent_runs_until_the_last_one_ends(broker):
    connector = LocalBusConnector(broker)
    log = []

    @cs.task
    async def hold(label, seconds):
        await asyncio.sleep(seconds)
        log.append((label, now(), connector.is_connected))

    engine = cs.Engine(connector=connector)
    start = now()
    long_run = asyncio.create_task(engine.run(hold("long", 5)))
    await engine.run(hold("short", 1))
    assert connector.is_connected  # the long run still holds it
    await long_run
    assert [(label, t - start, up) for label, t, up in log] == [
        ("short", pytest.approx(1, abs=0.01), True),
        ("long", pytest.approx(5, abs=0.01), True),
    ]
    assert not connector.is_connected
    assert broker.statistics().subscriptions == 0


async def test_constraints_from_messages_do_not_outlive_the_connection(broker, control):
    """A message cleared while no run was connected must not leave its constraint behind."""
    probe = Probe()

    @cs.task
    async def job(n):
        await probe.sleep(1)

    topic = "cascade/constraints/limit"
    engine = cs.Engine(connector=LocalBusConnector(broker))
    payload = {"type": "concurrency", "scope": "task:job", "params": {"limit": 1}}
    await control.publish(topic, payload, retain=True)
    for _ in range(2):  # still retained: the next connection hears it again
        await engine.run(gather(*(job(n) for n in range(2))))
        assert probe.peak == 1
    await control.publish(topic, None, retain=True)  # no run is connected to hear it
    probe.peak = 0
    start = now()
    await engine.run(gather(*(job(n) for n in range(2))))
    assert probe.peak == 2
    assert now() - start == pytest.approx(1, abs=0.01)


async def test_constraints_set_in_code_survive_the_connection_closing(broker):
    engine = cs.Engine(connector=LocalBusConnector(broker))
    engine.constraint_manager.update(pause("never_called"))

    @cs.task
    def quick():
        return 1

    await engine.run(quick())
    assert engine.constraint_manager.constraints() == (pause("never_called"),)


def test_one_engine_with_a_connector_serves_runs_in_two_event_loops():
    engine = cs.Engine(connector=LocalBusConnector(LocalBroker()))

    @cs.task
    async def ident(i: int) -> int:
        return i

    async def three_runs() -> list[int]:
        return await asyncio.gather(*(engine.run(ident(i)) for i in range(3)))

    # Contended lease lock in both loops: an asyncio.Lock bound to the first must not leak.
    assert asyncio.run(three_runs()) == [0, 1, 2]
    assert asyncio.run(three_runs()) == [0, 1, 2]
    assert not engine.connector.is_connected
