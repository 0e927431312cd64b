"""The chain fast path: which generations take it, and that it behaves like the general path."""

import asyncio
import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields

import pytest

import cascade as cs
import cascade.runtime.engine as engine_module
from cascade.runtime import events as ev
from cascade.runtime.chain import chain_of

# --- which generations are chains ---------------------------------------------------------------


@cs.task
def double(x: int) -> int:
    return 2 * x


@cs.task
def add(x: int, y: int = 0) -> int:
    return x + y


@cs.task
def pair(x: object, y: object) -> tuple:
    return (x, y)


@cs.resource(name="counter_box")
def counter_box():
    yield {"n": 0}


@cs.task
def uses_box(x: int, box: dict = cs.inject("counter_box")) -> int:
    box["n"] += 1
    return x


def test_a_call_on_a_call_is_a_chain_deepest_first():
    first = double(1)
    target = add(first, y=3)
    assert chain_of(target) == [first, None, (), target, 0, ()]


def test_a_keyword_slot_and_injected_defaults_are_recorded():
    first = double(1)
    links = chain_of(uses_box(x=first))
    assert links[4:] == ["x", (("box", "counter_box"),)]
    assert chain_of(uses_box(1, object()))[2] == ()  # passed: nothing to inject


def test_a_single_call_is_a_chain_of_one():
    target = add(1, 2)
    assert chain_of(target) == [target, None, ()]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: add(double(1), double(2)), id="two upstream calls"),
        pytest.param(lambda: (lambda d: pair(d, d))(double(1)), id="a shared sub-result"),
        pytest.param(lambda: pair([double(1)], 2), id="a call inside a list"),
        pytest.param(lambda: pair({"k": 1}, 2), id="any container"),
        pytest.param(lambda: add(cs.Param("p", default=1)), id="a param"),
        pytest.param(lambda: add(1).run_if(double(1)), id="a condition"),
        pytest.param(lambda: add(1).with_retry(2), id="a retry policy"),
        pytest.param(lambda: add(1).with_constraints(slot=1), id="constraints"),
        pytest.param(lambda: add.map(x=[1, 2]), id="a map"),
        pytest.param(lambda: pair(cs.inject("counter_box"), 1), id="an explicit injection"),
        pytest.param(
            lambda: add(cs.Router(selector=double(0), routes={0: 1, 1: 2})), id="a router"
        ),
    ],
)
def test_other_shapes_take_the_general_path(make):
    assert chain_of(make()) is None
    reused = ["a previous generation's chain"]
    assert chain_of(make(), reused) is None
    assert reused == []  # nothing of a half-walked chain is kept


def test_a_chain_fills_the_list_it_is_given():
    reused = ["a previous generation's chain"]
    first = double(1)
    target = add(first, y=3)
    assert chain_of(target, reused) is reused
    assert reused == [first, None, (), target, 0, ()]


# --- the same behaviour on both paths -----------------------------------------------------------


@cs.task
async def tick(n: int) -> int:
    await asyncio.sleep(0.01)
    return n - 1


@cs.task
def countdown(n: int, box: dict = cs.inject("counter_box")):
    """Count the generations in a run-scoped box; each later generation is tick -> countdown."""
    box["n"] += 1
    return box["n"] if n == 0 else countdown(tick(n))


@cs.task
def explode(x: int) -> int:
    raise ValueError(f"boom {x}")


def _record(engine: cs.Engine) -> list[tuple]:
    seen: list[tuple] = []

    def keep(event: ev.Event) -> None:
        values = {f.name: getattr(event, f.name) for f in fields(event)}
        values.pop("duration", None)  # wall time: differs between runs
        values.pop("run_id", None)
        values.pop("node_id", None)  # LazyResult ids differ from run to run
        seen.append((type(event).__name__, tuple(sorted(values.items(), key=str))))

    engine.bus.subscribe(ev.Event, keep)
    return seen


async def _run_both(monkeypatch, make_target, *, observe: bool):
    outcomes = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(engine_module, "chain_of", lambda target, into=None: None)
        engine = cs.Engine()
        engine.register(counter_box)
        events = _record(engine) if observe else []
        try:
            result = await engine.run(make_target())
        except Exception as error:
            result = repr(error)
        outcomes.append((result, asdict(engine.statistics()), events))
    monkeypatch.undo()
    return outcomes


@pytest.mark.parametrize("observe", [False, True])
async def test_a_tail_called_chain_gives_the_same_results_counters_and_events(monkeypatch, observe):
    fast, general = await _run_both(monkeypatch, lambda: countdown(5), observe=observe)
    assert fast == general
    assert fast[0] == 6
    assert fast[1]["generations"] == 6 and fast[1]["tasks_executed"] == 11


@pytest.mark.parametrize("observe", [False, True])
async def test_a_failing_chain_fails_the_same_way(monkeypatch, observe):
    fast, general = await _run_both(monkeypatch, lambda: add(explode(double(1))), observe=observe)
    assert fast == general
    assert fast[0] == "ValueError('boom 2')"
    assert fast[1]["runs_failed"] == 1


async def test_a_chain_generation_builds_no_graph_and_sets_up_its_resources(monkeypatch):
    built = []
    original = engine_module.build_graph
    monkeypatch.setattr(engine_module, "build_graph", lambda t: built.append(t) or original(t))
    engine = cs.Engine()
    engine.register(counter_box)
    assert await engine.run(countdown(20)) == 21
    assert built == []  # the first generation set the run-scoped resource up itself
    assert engine.statistics().generations == 21


async def test_a_chain_needing_an_unregistered_resource_fails_as_the_general_path_does(
    monkeypatch,
):
    fast, general = await _run_both_unregistered(monkeypatch)
    assert fast == general
    assert "ResourceNotFoundError" in fast and "'counter_box'" in fast and "countdown" in fast


async def _run_both_unregistered(monkeypatch):
    outcomes = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(engine_module, "chain_of", lambda target, into=None: None)
        try:
            await cs.Engine().run(countdown(1))
        except Exception as error:
            outcomes.append(repr(error))
    monkeypatch.undo()
    return outcomes


async def test_a_task_scoped_resource_keeps_the_general_path(monkeypatch):
    @cs.resource(name="counter_box", scope="task")
    def per_task_box():
        yield {"n": 0}

    built = []
    original = engine_module.build_graph
    monkeypatch.setattr(engine_module, "build_graph", lambda t: built.append(t) or original(t))
    engine = cs.Engine()
    engine.register(per_task_box)
    assert await engine.run(countdown(3)) == 1  # a fresh box per task execution
    assert len(built) == 4


async def test_active_constraints_admit_every_call_of_a_chain(monkeypatch):
    built, admitted = [], []
    original = engine_module.build_graph
    monkeypatch.setattr(engine_module, "build_graph", lambda t: built.append(t) or original(t))
    engine = cs.Engine()
    engine.register(counter_box)
    monkeypatch.setattr(
        type(engine.constraint_manager), "active", property(lambda self: True), raising=True
    )

    async def acquire(name, blocked):
        admitted.append(name)
        return ()

    monkeypatch.setattr(engine.constraint_manager, "acquire", acquire, raising=False)
    assert await engine.run(countdown(2)) == 3
    assert built == []
    assert admitted == ["countdown", "tick", "countdown", "tick", "countdown"]


async def test_a_custom_solver_keeps_the_general_path(monkeypatch):
    class Solver(cs.NativeSolver):
        calls = 0

        def resolve(self, graph):
            Solver.calls += 1
            return super().resolve(graph)

    engine = cs.Engine(solver=Solver())
    engine.register(counter_box)
    assert await engine.run(countdown(2)) == 3
    assert Solver.calls == 3


class _CountedState(engine_module.InMemoryStateBackend):
    made: list[str] = []
    stored: list[object] = []

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.made.append(run_id)

    def put_result(self, node_id: int, value: object) -> None:
        self.stored.append(value)
        super().put_result(node_id, value)


async def test_a_backend_of_the_callers_still_sees_every_chain_result():
    _CountedState.made, _CountedState.stored = [], []
    engine = cs.Engine(state_backend_factory=_CountedState)
    assert await engine.run(add(double(3), y=1)) == 7
    assert len(_CountedState.made) == 1  # one per run, made when the run starts
    assert _CountedState.stored == [6, 7]


async def test_the_default_backend_is_made_only_when_the_general_path_needs_it(monkeypatch):
    _CountedState.made, _CountedState.stored = [], []
    monkeypatch.setattr(engine_module, "InMemoryStateBackend", _CountedState)
    engine = cs.Engine()
    assert await engine.run(add(double(3), y=1)) == 7  # a chain: nothing to keep
    assert _CountedState.made == []
    assert await engine.run(add(double(3), y=double(1))) == 8  # two inputs: a graph
    assert len(_CountedState.made) == 1
    assert _CountedState.stored  # the general path keeps its results there


def _gated_wait() -> tuple[asyncio.Future[None], cs.Task]:
    """A future to release, and a task that waits for it, then returns its argument."""
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @cs.task
    async def wait_for_gate(n: int) -> int:
        await gate
        return n

    return gate, wait_for_gate


async def test_a_waiting_chain_run_keeps_one_engine_coroutine():
    """While a chain generation waits, the engine's part of a run is its one `_run` frame:
    no coroutine per generation (a regression here costs every waiting agent)."""
    gate, wait_for_gate = _gated_wait()

    @cs.task
    def step(n: int) -> object:
        return n if n >= 2 else step(wait_for_gate(n + 1))

    engine = cs.Engine()
    runs = [asyncio.ensure_future(engine.run(step(0))) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)  # every run is now waiting inside its second generation
    frames = [
        o
        for o in gc.get_objects()
        if type(o).__name__ == "coroutine" and o.cr_code.co_filename == engine_module.__file__
    ]
    assert sorted(f.cr_code.co_name for f in frames) == ["_run"] * 3
    gate.set_result(None)
    assert await asyncio.gather(*runs) == [2, 2, 2]


@pytest.mark.parametrize("slot", ["positional", "keyword"])
async def test_a_waiting_chain_holds_none_of_its_lazy_results(slot):
    """While a chain's first call waits, the run keeps the target's arguments but not the
    generation's LazyResults (two per waiting agent, and what they hold, for the collector)."""
    gate, wait_for_gate = _gated_wait()

    @cs.task
    def step(label: str, n: int) -> object:
        if n >= 2:
            return (label, n)
        upstream = wait_for_gate(n + 1)
        return step(label, upstream) if slot == "positional" else step(label, n=upstream)

    engine = cs.Engine()
    runs = [asyncio.ensure_future(engine.run(step(label, 0))) for label in "abc"]
    for _ in range(5):
        await asyncio.sleep(0)  # every run is now waiting inside its second generation
    alive = [
        o for o in gc.get_objects() if type(o) is cs.LazyResult and o.task in (step, wait_for_gate)
    ]
    assert alive == []
    gate.set_result(None)
    assert await asyncio.gather(*runs) == [("a", 2), ("b", 2), ("c", 2)]


async def test_a_run_holds_its_target_arguments_in_one_list_for_all_its_generations():
    """The list that keeps the target's arguments while an earlier call waits is the
    run's own, refilled every generation: a new one per generation would live as long as
    the wait and be walked by every young collection of the garbage collector."""
    marker = object()
    gates = [asyncio.get_running_loop().create_future() for _ in range(2)]

    @cs.task
    async def wait_for(index: int) -> int:
        await gates[index]
        return index + 1

    @cs.task
    def step(token: object, n: int) -> object:
        return n if n >= 2 else step(token, wait_for(n))

    run = asyncio.ensure_future(cs.Engine().run(step(marker, 0)))
    holders = []
    for gate in gates:
        for _ in range(3):
            await asyncio.sleep(0)  # the run now waits inside its next generation
        holders += [o for o in gc.get_referrers(marker) if type(o) is list]
        gate.set_result(None)
    assert await run == 2
    assert len(holders) == 2
    assert holders[0] is holders[1]
    assert holders[0] == [marker, None]  # after the call: no result is kept in it


def _logged_resources(log: list[str], *, first_async: bool = False) -> list[cs.ResourceDefinition]:
    """Two run-scoped resources that log their set-up and teardown ("+a", "-a")."""

    def plain(name: str):
        def lifetime():
            log.append(f"+{name}")
            yield name
            log.append(f"-{name}")

        return cs.resource(lifetime, name=name)

    async def awaited_a():
        log.append("+a")
        yield "a"
        log.append("-a")

    return [cs.resource(awaited_a, name="a") if first_async else plain("a"), plain("b")]


@cs.task
def needs_b(x: int, b: str = cs.inject("b")) -> int:
    return x + 1


@cs.task
def needs_a_then_b(x: int, a: str = cs.inject("a"), b: str = cs.inject("b")) -> str:
    return f"{x}{a}{b}"


@pytest.mark.parametrize("first_async", [False, True], ids=["plain", "one-awaited"])
async def test_a_chains_resources_are_set_up_and_torn_down_in_the_general_paths_order(
    monkeypatch, first_async
):
    logs = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(engine_module, "chain_of", lambda target, into=None: None)
        log: list[str] = []
        engine = cs.Engine()
        for definition in _logged_resources(log, first_async=first_async):
            engine.register(definition)
        assert await engine.run(needs_a_then_b(needs_b(1))) == "2ab"
        logs.append(log)
    monkeypatch.undo()
    assert logs[0] == logs[1] == ["+a", "+b", "-b", "-a"]


async def test_no_resource_is_set_up_when_another_one_is_not_registered():
    log: list[str] = []
    engine = cs.Engine()
    engine.register(_logged_resources(log)[0])  # "a" only: "b", needed after it, is missing
    with pytest.raises(cs.ResourceNotFoundError, match="'b'"):
        await engine.run(needs_a_then_b(needs_b(1)))
    assert log == []  # "a" was not set up (and torn down) before the check failed


@cs.resource(name="slow_box")
async def slow_box():
    await asyncio.sleep(0)  # its set-up waits: the chain keeps a list of its own meanwhile
    yield 100


@cs.task
async def later(x: int) -> int:
    await asyncio.sleep(0)
    return x


@cs.task
async def boxed(x: int, box: int = cs.inject("slow_box")) -> int:
    await asyncio.sleep(0)
    return x + box


@cs.task
def step(n: int, k: int, total: int, got: int = 0):
    """Adds what the previous chain gave, then tail-calls a chain of one to three calls."""
    total += got
    if k == 0:
        return total
    shape = k % 3
    if shape == 0:
        value = later(n)  # two calls: later -> step
    elif shape == 1:
        value = add(later(n), 1)  # three calls: later -> add -> step
    else:
        value = boxed(n)  # two calls, the first one's resource set up on first use
    return step(n, k - 1, total, value)


async def test_concurrent_chains_of_one_engine_each_run_their_own_calls():
    """Every chain generation of every run passes its calls through one list of the engine's:
    runs waiting mid-chain, in chains of one, two and three calls, must each see their own."""
    engine = cs.Engine()
    engine.register(slow_box)
    steps = 9
    expected = [sum(n + (0, 1, 100)[k % 3] for k in range(1, steps + 1)) for n in range(50)]
    results = await asyncio.gather(*(engine.run(step(n, steps, 0)) for n in range(50)))
    assert results == expected
    assert engine.statistics().generations == 50 * (steps + 1)


def test_engines_on_two_threads_do_not_share_a_chains_calls():
    """The list chains pass through is per thread: loops on two threads, switching
    threads as often as the interpreter allows, still each see their own calls."""

    def many_runs() -> list[int]:
        async def main() -> list[int]:
            engine = cs.Engine()
            engine.register(slow_box)
            return await asyncio.gather(*(engine.run(step(n, 9, 0)) for n in range(30)))

        return asyncio.run(main())

    expected = [sum(n + (0, 1, 100)[k % 3] for k in range(1, 10)) for n in range(30)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(2) as pool:
            results = [f.result() for f in [pool.submit(many_runs) for _ in range(8)]]
    finally:
        sys.setswitchinterval(interval)
    assert results == [expected] * 8
