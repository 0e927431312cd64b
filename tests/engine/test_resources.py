"""Resources: generator set-up/teardown, scopes, injection, errors and isolation between runs."""

import asyncio
import re

import pytest

import cascade as cs
from cascade.connectors import LocalBroker, LocalBusConnector


def logged_resource(log: list, name: str, scope: str = "run", *, is_async: bool = False):
    """A resource whose n-th set-up yields `name#n`, logging `setup name#n` / `teardown name#n`."""
    made = []

    if is_async:

        async def gen():
            made.append(None)
            value = f"{name}#{len(made)}"
            log.append(f"setup {value}")
            yield value
            log.append(f"teardown {value}")

    else:

        def gen():
            made.append(None)
            value = f"{name}#{len(made)}"
            log.append(f"setup {value}")
            yield value
            log.append(f"teardown {value}")

    return cs.resource(gen, name=name, scope=scope)


def engine_with(*definitions) -> cs.Engine:
    engine = cs.Engine()
    for definition in definitions:
        engine.register(definition)
    return engine


@cs.task
def echo(value):
    return value


@cs.task
def use_db(db=cs.inject("db")):
    return db


# --- set-up, injection, teardown -----------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_run_resource_is_set_up_before_and_torn_down_after_the_task(is_async):
    log = []

    @cs.task
    def query(db):
        log.append(f"task sees {db}")
        return db

    engine = engine_with(logged_resource(log, "db", is_async=is_async))
    assert await engine.run(query(cs.inject("db"))) == "db#1"
    assert log == ["setup db#1", "task sees db#1", "teardown db#1"]


async def test_inject_as_parameter_default():
    log = []
    engine = engine_with(logged_resource(log, "db"))
    assert await engine.run(use_db()) == "db#1"
    assert log == ["setup db#1", "teardown db#1"]


async def test_an_explicit_argument_overrides_the_injected_default():
    log = []
    engine = engine_with(logged_resource(log, "db"))
    assert await engine.run(use_db("explicit")) == "explicit"
    assert log == []


async def test_inject_nested_in_a_list_argument():
    log = []
    engine = engine_with(logged_resource(log, "db"), logged_resource(log, "cache"))
    assert await engine.run(echo([cs.inject("db"), cs.inject("cache")])) == ["db#1", "cache#1"]


async def test_run_resource_is_set_up_once_for_all_tasks_of_a_run():
    log = []
    engine = engine_with(logged_resource(log, "db"))
    result = await engine.run(echo([use_db(), use_db(), echo(cs.inject("db"))]))
    assert result == ["db#1", "db#1", "db#1"]
    assert log == ["setup db#1", "teardown db#1"]


async def test_each_run_sets_up_its_own_run_resource():
    log = []
    engine = engine_with(logged_resource(log, "db"))
    assert await engine.run(use_db()) == "db#1"
    assert await engine.run(use_db()) == "db#2"
    assert log == ["setup db#1", "teardown db#1", "setup db#2", "teardown db#2"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_task_resource_is_set_up_and_torn_down_around_each_task(is_async):
    log = []

    @cs.task
    def work(label, after=None, conn=cs.inject("conn")):
        log.append(f"{label} uses {conn}")
        return conn

    @cs.task
    def pair(a, b):
        return [a, b]

    first = work("first")
    second = work("second", after=first)  # depends on `first` only to order the log
    engine = engine_with(logged_resource(log, "conn", "task", is_async=is_async))
    assert await engine.run(pair(first, second)) == ["conn#1", "conn#2"]
    assert log == [
        "setup conn#1",
        "first uses conn#1",
        "teardown conn#1",
        "setup conn#2",
        "second uses conn#2",
        "teardown conn#2",
    ]


async def test_teardown_is_the_reverse_of_set_up():
    log = []

    @cs.task
    def three(a=cs.inject("a"), b=cs.inject("b"), c=cs.inject("c")):
        return a + b + c

    engine = engine_with(*(logged_resource(log, name) for name in "cab"))
    assert await engine.run(three()) == "a#1b#1c#1"  # each value reaches its parameter
    setups = [entry for entry in log if entry.startswith("setup")]
    teardowns = [entry for entry in log if entry.startswith("teardown")]
    assert [s.split()[1] for s in setups] == [t.split()[1] for t in reversed(teardowns)]
    assert log.index(setups[-1]) < log.index(teardowns[0])


async def test_a_resource_can_depend_on_another_through_an_inject_default():
    log = []

    @cs.resource(name="repo")
    def repo(db=cs.inject("db")):
        log.append(f"setup repo({db})")
        yield f"repo({db})"
        log.append(f"teardown repo({db})")

    @cs.task
    def use_repo(r=cs.inject("repo")):
        return r

    engine = engine_with(logged_resource(log, "db"), repo)
    assert await engine.run(use_repo()) == "repo(db#1)"
    assert log == ["setup db#1", "setup repo(db#1)", "teardown repo(db#1)", "teardown db#1"]


async def test_a_task_resource_can_use_a_run_resource_which_outlives_the_task():
    log = []

    @cs.resource(name="session", scope="task")
    def session(db=cs.inject("db")):
        log.append(f"open session on {db}")
        yield f"session({db})"
        log.append(f"close session on {db}")

    @cs.task
    def work(s=cs.inject("session")):
        return s

    @cs.task
    def pair(a, b):
        return [a, b]

    engine = engine_with(logged_resource(log, "db"), session)
    assert await engine.run(pair(work(), work())) == ["session(db#1)", "session(db#1)"]
    assert log.count("setup db#1") == 1
    assert log.count("open session on db#1") == 2
    assert log[-1] == "teardown db#1"


async def test_a_run_resource_cannot_use_a_task_resource():
    @cs.resource(name="conn", scope="task")
    def conn():
        yield "conn"

    @cs.resource(name="pool")
    def pool(c=cs.inject("conn")):
        yield c

    engine = engine_with(conn, pool)
    message = "task-scoped resource 'conn' cannot be used by a run-scoped resource"
    with pytest.raises(cs.ResourceError, match=re.escape(message)):
        await engine.run(echo(cs.inject("pool")))


# --- tail calls ----------------------------------------------------------------------------------


async def test_run_resource_survives_tail_calls_and_is_torn_down_once_after_the_last():
    log = []

    @cs.task
    def countdown(n, db=cs.inject("db")):
        log.append(f"generation {n} sees {db}")
        return n if n == 0 else countdown(n - 1)

    engine = engine_with(logged_resource(log, "db"))
    assert await engine.run(countdown(3)) == 0
    assert log == [
        "setup db#1",
        "generation 3 sees db#1",
        "generation 2 sees db#1",
        "generation 1 sees db#1",
        "generation 0 sees db#1",
        "teardown db#1",
    ]


async def test_task_resource_is_fresh_in_each_generation():
    log = []

    @cs.task
    def countdown(n, conn=cs.inject("conn")):
        return [conn] if n == 0 else countdown(n - 1)

    engine = engine_with(logged_resource(log, "conn", "task"))
    assert await engine.run(countdown(2)) == ["conn#3"]
    assert log == [
        "setup conn#1",
        "teardown conn#1",
        "setup conn#2",
        "teardown conn#2",
        "setup conn#3",
        "teardown conn#3",
    ]


async def test_generation_two_needing_an_unregistered_resource_tears_down_generation_one():
    log = []

    @cs.task
    def needs_missing(m=cs.inject("missing")):
        log.append("needs_missing ran")
        return m

    @cs.task
    def first(db=cs.inject("db")):
        log.append(f"first ran with {db}")
        return needs_missing()

    engine = engine_with(logged_resource(log, "db"))
    message = (
        "resource 'missing' is required by task(s) ['needs_missing'] but is not registered: "
        "call engine.register() with a @cs.resource named 'missing'"
    )
    with pytest.raises(cs.ResourceNotFoundError, match=re.escape(message)):
        await engine.run(first())
    assert log == ["setup db#1", "first ran with db#1", "teardown db#1"]


# --- failures ------------------------------------------------------------------------------------


async def test_resources_are_torn_down_when_a_task_fails_and_its_error_propagates():
    log = []
    error = ValueError("task broke")

    @cs.task
    def broken(db=cs.inject("db"), conn=cs.inject("conn")):
        log.append(f"broken ran with {db}, {conn}")
        raise error

    engine = engine_with(logged_resource(log, "db"), logged_resource(log, "conn", "task"))
    with pytest.raises(ValueError, match=r"^task broke$") as caught:
        await engine.run(broken())
    assert caught.value is error
    assert log == [
        "setup db#1",
        "setup conn#1",
        "broken ran with db#1, conn#1",
        "teardown conn#1",
        "teardown db#1",
    ]


async def test_unregistered_resource_fails_before_any_task_runs():
    ran = []

    @cs.task
    def first():
        ran.append("first")
        return 1

    @cs.task
    def query(x, db=cs.inject("db")):
        ran.append("query")
        return db

    message = (
        "resource 'db' is required by task(s) ['query'] but is not registered: "
        "call engine.register() with a @cs.resource named 'db'"
    )
    with pytest.raises(cs.ResourceNotFoundError, match=re.escape(message)):
        await cs.Engine().run(query(first()))
    assert ran == []


async def test_unregistered_resource_lists_every_task_that_needs_it():
    @cs.task
    def pair(a, b):
        return [a, b]

    with pytest.raises(cs.ResourceNotFoundError, match=re.escape("task(s) ['echo', 'use_db']")):
        await cs.Engine().run(pair(use_db(), echo(cs.inject("db"))))


async def test_a_resource_depending_on_an_unregistered_resource_fails_before_any_task_runs():
    ran = []

    @cs.resource(name="repo")
    def repo(db=cs.inject("db")):
        yield db

    @cs.task
    def first():
        ran.append("first")
        return 1

    message = (
        "resource 'db' is required by resource 'repo' but is not registered: "
        "call engine.register() with a @cs.resource named 'db'"
    )
    engine = engine_with(repo)
    with pytest.raises(cs.ResourceNotFoundError, match=re.escape(message)):
        await engine.run(echo([first(), cs.inject("repo")]))
    assert ran == []


async def test_resources_depending_on_each_other_in_a_cycle_fail_before_any_task_runs():
    @cs.resource(name="a")
    def a(b=cs.inject("b")):
        yield b

    @cs.resource(name="b")
    def b(a=cs.inject("a")):
        yield a

    message = "resources depend on each other in a cycle: a -> b -> a"
    with pytest.raises(cs.ResourceError, match=re.escape(message)):
        await engine_with(a, b).run(echo(cs.inject("a")))


async def test_a_resource_that_does_not_yield_raises_and_earlier_resources_are_torn_down():
    log = []

    @cs.resource(name="empty")
    def empty():
        log.append("empty ran")
        return
        yield  # pragma: no cover - makes this a generator that never yields

    @cs.task
    def both(a=cs.inject("a_first"), e=cs.inject("empty")):
        log.append("task ran")

    message = (
        "resource 'empty' did not yield a value: a @cs.resource function must yield exactly "
        "once (set-up before the yield, teardown after it)"
    )
    engine = engine_with(logged_resource(log, "a_first"), empty)
    with pytest.raises(cs.ResourceError, match=re.escape(message)):
        await engine.run(both())
    assert log == ["setup a_first#1", "empty ran", "teardown a_first#1"]


async def test_an_async_resource_that_does_not_yield_raises():
    @cs.resource(name="empty")
    async def empty():
        return
        yield  # pragma: no cover

    engine = engine_with(empty)
    with pytest.raises(cs.ResourceError, match="resource 'empty' did not yield a value"):
        await engine.run(echo(cs.inject("empty")))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_resource_that_yields_twice_raises_at_teardown(is_async):
    log = []

    if is_async:

        async def twice():
            yield "one"
            log.append("after first yield")
            yield "two"

    else:

        def twice():
            yield "one"
            log.append("after first yield")
            yield "two"

    @cs.task
    def work(o=cs.inject("a_other"), t=cs.inject("twice")):
        log.append(f"task got {t}")
        return t

    engine = engine_with(logged_resource(log, "a_other"), cs.resource(twice, name="twice"))
    message = "resource 'twice' yielded more than once: it must yield exactly once"
    with pytest.raises(cs.ResourceError, match=re.escape(message)):
        await engine.run(work())
    # The other resource is still torn down after the broken one.
    assert log == ["setup a_other#1", "task got one", "after first yield", "teardown a_other#1"]


def test_resource_on_a_non_generator_function_is_a_definition_error():
    message = (
        "resource 'plain' must be a generator function: set up, `yield` the value, then tear down"
    )
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):

        @cs.resource
        def plain():
            return 1


def test_resource_with_a_bad_scope_is_a_definition_error():
    message = "resource 'db': scope must be one of ('run', 'task'), got 'forever'"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):

        @cs.resource(name="db", scope="forever")
        def db():
            yield 1


def test_resource_name_defaults_to_the_function_name():
    @cs.resource
    def database():
        yield 1

    assert isinstance(database, cs.ResourceDefinition)
    assert (database.name, database.scope, database.is_async) == ("database", "run", False)


def test_inject_needs_a_name():
    with pytest.raises(
        cs.DefinitionError, match=re.escape("inject() needs a resource name, got ''")
    ):
        cs.inject("")


def test_register_rejects_what_is_not_a_resource_definition():
    message = "register() needs a @cs.resource definition, got 42"
    with pytest.raises(cs.DefinitionError, match=re.escape(message)):
        cs.Engine().register(42)


async def test_register_replaces_a_resource_of_the_same_name():
    @cs.resource(name="db")
    def old():
        yield "old"

    @cs.resource(name="db")
    def new():
        yield "new"

    assert await engine_with(old, new).run(use_db()) == "new"


# --- isolation between concurrent runs -----------------------------------------------------------


async def test_concurrent_runs_on_one_engine_each_get_their_own_run_resource():
    log = []

    @cs.task
    async def hold(label, db=cs.inject("db")):
        log.append(f"{label} starts with {db}")
        await asyncio.sleep(1)
        log.append(f"{label} ends with {db}")
        return db

    engine = engine_with(logged_resource(log, "db"))
    first, second = await asyncio.gather(engine.run(hold("a")), engine.run(hold("b")))
    assert {first, second} == {"db#1", "db#2"}
    assert log.count(f"a ends with {first}") == 1
    assert log.count(f"b ends with {second}") == 1
    # Both were alive at once: each set-up happened before either teardown.
    assert log.index("setup db#2") < log.index("teardown db#1")
    assert sorted(e for e in log if e.startswith("teardown")) == ["teardown db#1", "teardown db#2"]


async def test_a_connector_handed_in_as_a_resource_is_never_disconnected_by_the_engine():
    broker = LocalBroker()
    shared = LocalBusConnector(broker)
    await shared.connect()
    received = []

    async def inbox(topic, payload):
        received.append(payload)

    await shared.subscribe("out/#", inbox)

    @cs.resource(name="bus")
    def bus():
        yield shared

    @cs.task
    async def quick(bus=cs.inject("bus")):
        await bus.publish("out/quick", "quick")
        return "quick"

    @cs.task
    async def slow(bus=cs.inject("bus")):
        await asyncio.sleep(5)
        still_connected = bus.is_connected
        await bus.publish("out/slow", "slow")
        return still_connected

    engine = cs.Engine(connector=LocalBusConnector(broker))
    engine.register(bus)
    slow_run = asyncio.create_task(engine.run(slow()))
    assert await engine.run(quick()) == "quick"
    assert shared.is_connected
    assert await slow_run is True
    assert shared.is_connected
    assert not engine.connector.is_connected  # the engine's own connector is released
    await asyncio.sleep(0)
    assert received == ["quick", "slow"]
    await broker.aclose()


@cs.resource(name="fragile")
def fragile():
    yield "fragile"
    raise OSError("teardown broke")


@cs.task
def boom(value=cs.inject("fragile")):
    raise ValueError("the task's own error")


async def test_a_teardown_error_does_not_replace_the_failing_tasks_error(caplog):
    engine = engine_with(fragile)
    with pytest.raises(ValueError, match="the task's own error"):
        await engine.run(boom())
    assert "resource teardown failed" in caplog.text
    assert "teardown broke" in caplog.text


async def test_a_teardown_error_after_a_successful_run_fails_the_run():
    engine = engine_with(fragile)
    with pytest.raises(OSError, match="teardown broke"):
        await engine.run(echo(cs.inject("fragile")))


async def test_every_teardown_runs_though_one_fails_and_the_last_failure_is_raised():
    log: list[str] = []

    @cs.resource(name="first")
    def first():
        yield "first"
        log.append("teardown first")
        raise OSError("first broke")

    @cs.resource(name="second")
    def second(before=cs.inject("first")):
        yield "second"
        log.append("teardown second")
        raise RuntimeError("second broke")

    @cs.resource(name="third")
    def third(before=cs.inject("second")):
        yield "third"
        log.append("teardown third")

    engine = engine_with(first, second, third)
    with pytest.raises(OSError, match="first broke") as error:
        await engine.run(echo(cs.inject("third")))
    assert log == ["teardown third", "teardown second", "teardown first"]
    assert isinstance(error.value.__context__, RuntimeError)  # the earlier failure, kept
