"""Failures propagate unchanged and cancel siblings; retries with delay and backoff."""

import asyncio
import math
from fractions import Fraction

import pytest

import cascade as cs


def now() -> float:
    return asyncio.get_running_loop().time()


@cs.task
def gather(*values):
    return list(values)


class Flaky:
    """A task function that fails the first `failures` times (per key), recording attempt times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: dict[object, list[float]] = {}

    def __call__(self, key=None):
        times = self.attempts.setdefault(key, [])
        times.append(now())
        if len(times) <= self.failures:
            raise ConnectionError(f"attempt {len(times)} for {key} failed")
        return key


# --- failures ------------------------------------------------------------------------------------


@cs.task
def fails_sync(message):
    raise ValueError(message)


@cs.task
async def fails_async(message):
    await asyncio.sleep(1)
    raise ValueError(message)


@pytest.mark.parametrize("broken", [fails_sync, fails_async], ids=["sync", "async"])
async def test_a_failing_task_fails_the_run_with_its_original_exception(broken):
    engine = cs.Engine()
    finished = []
    engine.bus.subscribe(cs.RunFinished, finished.append)
    with pytest.raises(ValueError, match=r"^bad input 42$") as caught:
        await engine.run(gather(broken("bad input 42")))
    assert type(caught.value) is ValueError
    [event] = finished
    assert (event.status, event.error) == ("failed", "ValueError('bad input 42')")
    stats = engine.statistics()
    assert (stats.runs_failed, stats.runs_succeeded, stats.runs_active) == (1, 0, 0)


async def test_the_exception_object_is_the_one_the_task_raised():
    error = LookupError("the very same")

    @cs.task
    def broken():
        raise error

    with pytest.raises(LookupError) as caught:
        await cs.Engine().run(broken())
    assert caught.value is error


async def test_tasks_after_a_failure_do_not_run():
    ran = []

    @cs.task
    def after(x):
        ran.append("after")

    with pytest.raises(ValueError, match=r"^early$"):
        await cs.Engine().run(after(fails_sync("early")))
    assert ran == []


async def test_a_failure_cancels_the_siblings_of_its_stage():
    log = []

    @cs.task
    async def sleeper(seconds):
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            log.append(("cancelled", seconds, now()))
            raise
        log.append(("finished", seconds, now()))

    start = now()
    with pytest.raises(ValueError, match=r"^sibling failed$"):
        await cs.Engine().run(gather(sleeper(10), fails_async("sibling failed"), sleeper(20)))
    assert now() - start == pytest.approx(1, abs=0.01)
    assert sorted((what, seconds) for what, seconds, _ in log) == [
        ("cancelled", 10),
        ("cancelled", 20),
    ]
    assert [t - start for _, _, t in log] == [pytest.approx(1, abs=0.01)] * 2


async def test_a_failing_map_element_cancels_the_other_elements():
    log = []

    @cs.task
    async def element(n):
        if n == 2:
            await asyncio.sleep(1)
            raise ValueError(f"element {n} failed")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append(n)
            raise

    start = now()
    with pytest.raises(ValueError, match=r"^element 2 failed$"):
        await cs.Engine().run(element.map(n=range(4)))
    assert now() - start == pytest.approx(1, abs=0.01)
    assert sorted(log) == [0, 1, 3]


async def test_an_engine_keeps_working_after_a_failed_run():
    engine = cs.Engine()
    with pytest.raises(ValueError, match=r"^once$"):
        await engine.run(fails_sync("once"))
    assert await engine.run(gather(1, 2)) == [1, 2]


async def test_cancelling_a_run_cancels_its_running_tasks():
    log = []

    @cs.task
    async def sleeper(n):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append(n)
            raise

    engine = cs.Engine()
    finished = []
    engine.bus.subscribe(cs.RunFinished, finished.append)
    run = asyncio.create_task(engine.run(gather(sleeper(1), sleeper(2))))
    await asyncio.sleep(1)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert sorted(log) == [1, 2]
    assert [e.status for e in finished] == ["cancelled"]
    stats = engine.statistics()
    assert (stats.runs_cancelled, stats.runs_failed, stats.runs_active) == (1, 0, 0)
    assert engine.statistics().runs_active == 0


# --- retry ---------------------------------------------------------------------------------------


async def test_retry_returns_the_result_after_failed_attempts():
    flaky = Flaky(failures=2)
    task = cs.task(flaky, name="flaky")
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskRetrying, events.append)
    started = []
    engine.bus.subscribe(cs.TaskExecutionStarted, started.append)
    assert await engine.run(task("k").with_retry(3)) == "k"
    assert len(flaky.attempts["k"]) == 3
    assert [(e.task_name, e.attempt, e.delay, e.error) for e in events] == [
        ("flaky", 1, 0.0, "ConnectionError('attempt 1 for k failed')"),
        ("flaky", 2, 0.0, "ConnectionError('attempt 2 for k failed')"),
    ]
    assert [e.attempt for e in started] == [1, 2, 3]
    stats = engine.statistics()
    assert (stats.tasks_retried, stats.tasks_executed, stats.runs_succeeded) == (2, 1, 1)


async def test_retry_gives_up_after_max_attempts_waiting_delay_times_backoff():
    flaky = Flaky(failures=10)
    task = cs.task(flaky, name="flaky")
    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskRetrying, events.append)
    start = now()
    with pytest.raises(ConnectionError, match=r"^attempt 3 for k failed$"):
        await engine.run(task("k").with_retry(3, delay=1, backoff=2))
    offsets = [t - start for t in flaky.attempts["k"]]
    assert offsets == pytest.approx([0, 1, 3], abs=0.01)
    assert [(e.attempt, e.delay) for e in events] == [(1, 1.0), (2, 2.0)]
    assert engine.statistics().tasks_retried == 2


async def test_an_async_task_is_retried_too():
    attempts = []

    @cs.task
    async def flaky():
        attempts.append(now())
        await asyncio.sleep(1)
        if len(attempts) < 2:
            raise TimeoutError("slow backend")
        return "ok"

    start = now()
    assert await cs.Engine().run(flaky().with_retry(2, delay=0.5)) == "ok"
    assert [t - start for t in attempts] == pytest.approx([0, 1.5], abs=0.01)


async def test_without_retry_a_task_is_attempted_once():
    flaky = Flaky(failures=1)
    with pytest.raises(ConnectionError, match=r"^attempt 1 for None failed$"):
        await cs.Engine().run(cs.task(flaky, name="flaky")())
    assert len(flaky.attempts[None]) == 1


async def test_retry_applies_to_each_element_of_a_map():
    flaky = Flaky(failures=0)
    flaky_keys = {1, 3}

    def element(n):
        times = flaky.attempts.setdefault(n, [])
        times.append(now())
        if n in flaky_keys and len(times) == 1:
            raise ConnectionError(f"element {n} failed once")
        return n * 10

    engine = cs.Engine()
    events = []
    engine.bus.subscribe(cs.TaskRetrying, events.append)
    task = cs.task(element, name="element")
    assert await engine.run(task.map(n=range(4)).with_retry(2, delay=1)) == [0, 10, 20, 30]
    assert {n: len(times) for n, times in flaky.attempts.items()} == {0: 1, 1: 2, 2: 1, 3: 2}
    assert sorted(e.error for e in events) == [
        "ConnectionError('element 1 failed once')",
        "ConnectionError('element 3 failed once')",
    ]
    assert engine.statistics().tasks_retried == 2


async def test_a_map_element_that_exhausts_its_retries_fails_the_run():
    def element(n):
        if n == 1:
            raise ConnectionError("element 1 always fails")
        return n

    task = cs.task(element, name="element")
    with pytest.raises(ConnectionError, match=r"^element 1 always fails$"):
        await cs.Engine().run(task.map(n=range(3)).with_retry(2))


async def test_cancellation_is_not_retried():
    attempts = []

    @cs.task
    async def slow():
        attempts.append(now())
        await asyncio.sleep(10)

    run = asyncio.create_task(cs.Engine().run(slow().with_retry(5)))
    await asyncio.sleep(1)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert len(attempts) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0,), "max_attempts must be an int >= 1, got int 0"),
        ((2.5,), "max_attempts must be an int >= 1, got float 2.5"),
        ((True,), "max_attempts must be an int >= 1, got bool True"),
        (("3",), "max_attempts must be an int >= 1, got str '3'"),
        ((2, -1), "delay must be a finite number of seconds >= 0, got int -1"),
        ((2, math.nan), "delay must be a finite number of seconds >= 0, got float nan"),
        ((2, math.inf), "delay must be a finite number of seconds >= 0, got float inf"),
        ((2, True), "delay must be a finite number of seconds >= 0, got bool True"),
        ((2, "1"), "delay must be a finite number of seconds >= 0, got str '1'"),
        ((2, None), "delay must be a finite number of seconds >= 0, got NoneType None"),
        ((2, 1, 0.5), "backoff must be a finite number >= 1, got float 0.5"),
        ((2, 1, math.nan), "backoff must be a finite number >= 1, got float nan"),
        ((2, 1, math.inf), "backoff must be a finite number >= 1, got float inf"),
        ((2, 1, True), "backoff must be a finite number >= 1, got bool True"),
        ((2, 1, "2"), "backoff must be a finite number >= 1, got str '2'"),
    ],
)
def test_bad_retry_options_are_definition_errors(args, message):
    with pytest.raises(cs.DefinitionError) as error:
        gather().with_retry(*args)
    assert str(error.value) == f"with_retry() of task 'gather': {message}"


@pytest.mark.parametrize(("delay", "backoff"), [(0, 1), (0.5, 2), (Fraction(1, 2), 1.5)])
def test_good_retry_options_are_kept_as_floats(delay, backoff):
    policy = gather().with_retry(3, delay, backoff).retry
    assert (policy.max_attempts, policy.delay, policy.backoff) == (3, delay, backoff)
    assert type(policy.delay) is float and type(policy.backoff) is float
