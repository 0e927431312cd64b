"""Concurrency isolation: many run() calls on ONE engine must never see each other's state."""

import asyncio

import pytest

import cascade as cs

RUNS = 500
KEYS = "abc"


def expected_keys(i: int) -> list[str]:
    """The router branch each generation of run `i` must take."""
    return [KEYS[(i + gen) % 3] for gen in range(i % 5 + 1)]


def expected_total(i: int) -> int:
    return sum((KEYS.index(k) + 1) * i for k in expected_keys(i))


def ends_skipped(i: int) -> bool:
    """Every tenth run's last generation is skipped by run_if, so that run must fail alone."""
    return i % 10 == 9


@cs.resource(name="run_ctx", scope="run")
def run_ctx():
    yield {}


@cs.task
async def choose(i: int, gen: int) -> str:
    await asyncio.sleep(((i * 7 + gen) % 5) / 1000)  # interleave the runs
    return KEYS[(i + gen) % 3]


def make_branch(key: str) -> cs.Task:
    @cs.task(name=f"branch_{key}")
    async def branch(i: int, ran: dict, ctx: dict = cs.inject("run_ctx")) -> int:
        await asyncio.sleep((i % 3) / 1000)
        assert ctx["owner"] == i, "a run saw another run's resource"
        ran[i].append(key)
        return (KEYS.index(key) + 1) * i

    return branch


BRANCHES = {key: make_branch(key) for key in KEYS}


@cs.task
def keep_going(i: int, gen: int) -> bool:
    return not (ends_skipped(i) and gen == i % 5)


@cs.task
def claim(i: int, ctx: dict = cs.inject("run_ctx")) -> int:
    ctx.setdefault("owner", i)
    return i


@cs.task
def step(i: int, gen: int, total: int, value: int, ran: dict):
    total += value
    if gen == i % 5:
        return total
    return generation(i, gen + 1, total, ran)


def generation(i: int, gen: int, total: int, ran: dict) -> cs.LazyResult:
    owner = claim(i)
    routes = {key: BRANCHES[key](owner, ran) for key in KEYS}
    value = cs.Router(selector=choose(i, gen), routes=routes)
    return step(i, gen, total, value, ran).run_if(keep_going(i, gen))


def snapshot(engine: cs.Engine) -> dict:
    return dict(vars(engine))


async def test_500_concurrent_runs_on_one_engine_are_isolated():
    engine = cs.Engine()
    engine.register(run_ctx)
    skipped: list[cs.TaskSkipped] = []
    unsubscribe = engine.bus.subscribe(cs.TaskSkipped, skipped.append)
    before = snapshot(engine)
    ran: dict[int, list[str]] = {i: [] for i in range(RUNS)}

    results = await asyncio.gather(
        *(engine.run(generation(i, 0, 0, ran)) for i in range(RUNS)), return_exceptions=True
    )

    for i, result in enumerate(results):
        if ends_skipped(i):
            assert isinstance(result, cs.TargetSkippedError), (i, result)
        else:
            assert result == expected_total(i), (i, result)
        assert ran[i] == expected_keys(i), (i, ran[i])
    unsubscribe()
    after = snapshot(engine)
    assert after.keys() == before.keys()
    assert all(after[name] is value for name, value in before.items())
    stats = engine.statistics()
    assert stats.runs_active == 0
    assert stats.runs_started == RUNS
    assert stats.runs_failed == sum(ends_skipped(i) for i in range(RUNS))
    # Two branches pruned per generation, plus the skipped last step of every tenth run.
    generations = sum(i % 5 + 1 for i in range(RUNS))
    pruned = [e for e in skipped if e.reason == "RouterPruned"]
    assert len(pruned) == 2 * generations


async def test_engine_holds_no_per_run_objects_while_runs_are_in_flight():
    engine = cs.Engine()
    engine.register(run_ctx)
    seen: list[dict] = []

    @cs.task
    async def peek(i: int) -> int:
        await asyncio.sleep(0.01)
        seen.append(snapshot(engine))
        return i

    await asyncio.gather(*(engine.run(peek(i)) for i in range(20)))
    per_run_types = (cs.FlowManager, cs.InMemoryStateBackend, cs.Graph, cs.LazyResult)
    for attrs in seen:
        assert not [n for n, v in attrs.items() if isinstance(v, per_run_types)]


@pytest.mark.parametrize("runs", [2, 50])
async def test_a_failing_run_does_not_disturb_concurrent_runs(runs):
    engine = cs.Engine()

    @cs.task
    async def work(i: int) -> int:
        await asyncio.sleep(i / 100)
        if i == 0:
            raise RuntimeError("run 0 fails")
        return i

    results = await asyncio.gather(
        *(engine.run(work(i)) for i in range(runs)), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError)
    assert results[1:] == list(range(1, runs))
