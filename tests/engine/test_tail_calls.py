"""Tail calls: a task returning a LazyResult continues the run without growing stack or memory."""

import asyncio
import gc
import sys

import cascade as cs

SAMPLE_AT = (1_000, 100_000)


@cs.task
def step(n: int, stop: int, samples: dict):
    """One generation: record memory at the sample points, then tail-call the next one."""
    if n in SAMPLE_AT:
        gc.collect()
        samples[n] = (sys.getallocatedblocks(), len(gc.get_objects()))
    if n == stop:
        return n
    return step(n + 1, stop, samples)


async def test_100k_generations_complete_in_flat_memory():
    samples: dict[int, tuple[int, int]] = {}
    engine = cs.Engine()
    result = await engine.run(step(0, SAMPLE_AT[-1], samples))
    assert result == SAMPLE_AT[-1]
    assert engine.statistics().generations == SAMPLE_AT[-1] + 1
    (blocks_1k, objects_1k), (blocks_100k, objects_100k) = samples[1_000], samples[100_000]
    # 99,000 more generations may not keep anything: one retained object per generation
    # would show up as 99,000 more blocks and objects.
    assert blocks_100k - blocks_1k < 1_000, (blocks_1k, blocks_100k)
    assert abs(objects_100k - objects_1k) < 100, (objects_1k, objects_100k)


@cs.task
def depth_probe(n: int, depths: list):
    depths.append(len(_stack()))
    return n if n == 0 else depth_probe(n - 1, depths)


def _stack() -> list:
    frame, frames = sys._getframe(), []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


async def test_the_python_stack_does_not_grow_across_generations():
    depths: list[int] = []
    await cs.Engine().run(depth_probe(50, depths))
    assert len(depths) == 51
    assert max(depths) == min(depths)


@cs.task
def accumulate(n: int, total: int = 0):
    return total if n == 0 else accumulate(n - 1, total + n)


def test_tail_call_result_is_the_last_generations_value():
    assert cs.run(accumulate(100)) == 5050


async def _passes_during(awaitable) -> tuple[object, int]:
    """The awaitable's result and how many loop passes a bystander task saw meanwhile."""
    passes = 0

    async def bystander() -> None:
        nonlocal passes
        while True:
            await asyncio.sleep(0)
            passes += 1

    watcher = asyncio.get_running_loop().create_task(bystander())
    await asyncio.sleep(0)  # the bystander is waiting in the loop before the run starts
    try:
        result = await awaitable
    finally:
        watcher.cancel()
    return result, passes


async def test_a_generation_that_never_waits_still_lets_the_loop_run():
    result, passes = await _passes_during(cs.Engine().run(accumulate(50)))
    assert result == sum(range(51))
    # One yield per synchronous generation: nobody is starved.
    assert passes >= 50


@cs.task
def waiting_countdown(n: int, waited: object = None):
    return n if n == 0 else waiting_countdown(n - 1, cs.wait(0))


async def test_a_generation_that_waited_is_not_followed_by_another_yield():
    result, passes = await _passes_during(cs.Engine().run(waiting_countdown(50)))
    assert result == 0
    # Each wait(0) is one pass; a breather after each would make it about 100.
    assert 50 <= passes <= 53


async def test_a_runs_first_generation_is_followed_by_a_yield():
    """A swarm's runs all start in one loop pass: each run's first generation yields, so
    that pass is not also the one that makes every run's second generation."""
    log: list[str] = []

    @cs.task
    def first(name: str) -> object:
        log.append(f"{name}1")
        return second(name)

    @cs.task
    def second(name: str) -> object:
        log.append(f"{name}2")
        return third(name)

    @cs.task
    def third(name: str) -> str:
        log.append(f"{name}3")
        return name

    engine = cs.Engine()
    runs = [asyncio.ensure_future(engine.run(first(name))) for name in "ab"]
    assert await asyncio.gather(*runs) == ["a", "b"]
    assert log == ["a1", "b1", "a2", "b2", "a3", "b3"]


async def test_the_engines_of_one_thread_share_one_turn_callback():
    """One engine per agent must not mean one pending loop callback per agent."""
    engines = [cs.Engine() for _ in range(50)]
    runs = [asyncio.ensure_future(engine.run(accumulate(3))) for engine in engines]
    await asyncio.sleep(0)  # every run has done one generation and yielded
    ready = asyncio.get_running_loop()._ready
    advances = [h for h in ready if getattr(h._callback, "__name__", "") == "_advance"]
    assert len(advances) == 1
    assert await asyncio.gather(*runs) == [6] * 50
