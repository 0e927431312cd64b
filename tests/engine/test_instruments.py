"""Instruments: hooks called in order, only those overridden, raising ones removed."""

import asyncio
import logging

import pytest

import cascade as cs


@cs.task
def count_to(n: int, stop: int) -> object:
    return n if n == stop else count_to(n + 1, stop)


@cs.task
def explode() -> int:
    raise ValueError("boom")


@cs.task
async def forever() -> None:
    await asyncio.sleep(3600)


@cs.task
def add(x: int, y: int) -> int:
    return x + y


class Recorder(cs.Instrument):
    """Records every hook call as (hook, arguments...), LazyResults by their task's name."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def _keep(self, *call: object) -> None:
        self.calls.append(
            tuple(f"<{c.task.name}>" if isinstance(c, cs.LazyResult) else c for c in call)
        )

    def run_started(self, engine, run_id, target):
        self._keep("run_started", engine, run_id, target)

    def before_generation(self, engine, run_id, generation, target):
        self._keep("before_generation", engine, run_id, generation, target)

    def after_generation(self, engine, run_id, generation, result):
        self._keep("after_generation", engine, run_id, generation, result)

    def run_finished(self, engine, run_id, status, error):
        self._keep("run_finished", engine, run_id, status, error)


class AfterOnly(cs.Instrument):
    def __init__(self) -> None:
        self.generations: list[int] = []

    def after_generation(self, engine, run_id, generation, result):
        self.generations.append(generation)


class Raising(cs.Instrument):
    def __init__(self) -> None:
        self.calls = 0

    def before_generation(self, engine, run_id, generation, target):
        self.calls += 1
        raise RuntimeError("instrument bug")


@pytest.fixture(autouse=True)
def _no_process_wide_leftovers():
    """Every test starts and ends with no process-wide instrument."""
    assert not cs.runtime.instruments.PROCESS.registered()
    yield
    for instrument in cs.runtime.instruments.PROCESS.registered():
        cs.remove_instrument(instrument)


def _run_id(recorder: Recorder) -> str:
    return recorder.calls[0][2]


async def test_hooks_are_called_in_order_with_their_arguments():
    recorder = Recorder()
    engine = cs.Engine(instruments=[recorder])
    assert await engine.run(count_to(0, 2)) == 2
    run_id = _run_id(recorder)
    assert run_id.startswith("run-")
    assert recorder.calls == [
        ("run_started", engine, run_id, "<count_to>"),
        ("before_generation", engine, run_id, 1, "<count_to>"),
        ("after_generation", engine, run_id, 1, "<count_to>"),
        ("before_generation", engine, run_id, 2, "<count_to>"),
        ("after_generation", engine, run_id, 2, "<count_to>"),
        ("before_generation", engine, run_id, 3, "<count_to>"),
        ("after_generation", engine, run_id, 3, 2),
        ("run_finished", engine, run_id, "succeeded", None),
    ]


async def test_the_general_path_calls_the_same_hooks():
    recorder = Recorder()
    engine = cs.Engine(instruments=[recorder])
    assert await engine.run(add(add(1, 2), add(3, 4))) == 10  # two upstream calls: a graph
    assert [call[0] for call in recorder.calls] == [
        "run_started",
        "before_generation",
        "after_generation",
        "run_finished",
    ]
    assert recorder.calls[2][3:] == (1, 10)


async def test_a_failed_run_and_a_cancelled_one_say_so():
    recorder = Recorder()
    engine = cs.Engine(instruments=[recorder])
    with pytest.raises(ValueError, match="boom"):
        await engine.run(explode())
    failed = recorder.calls[-1]
    assert failed[:1] + failed[3:4] == ("run_finished", "failed")
    assert isinstance(failed[4], ValueError)
    assert [call[0] for call in recorder.calls] == [
        "run_started",
        "before_generation",
        "run_finished",  # no after_generation: the generation raised
    ]
    running = asyncio.ensure_future(engine.run(forever()))
    await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    cancelled = recorder.calls[-1]
    assert cancelled[3] == "cancelled" and isinstance(cancelled[4], asyncio.CancelledError)


async def test_hooks_an_instrument_does_not_override_are_never_called(monkeypatch):
    called = []
    for hook in ("run_started", "before_generation", "run_finished"):
        monkeypatch.setattr(
            cs.Instrument, hook, lambda self, *args, _hook=hook: called.append(_hook)
        )
    instrument = AfterOnly()
    engine = cs.Engine(instruments=[instrument])
    assert await engine.run(count_to(0, 2)) == 2
    assert instrument.generations == [1, 2, 3]
    assert called == []


async def test_a_raising_instrument_is_logged_and_removed_and_the_run_goes_on(caplog):
    raising, recorder = Raising(), Recorder()
    engine = cs.Engine(instruments=[raising, recorder])
    with caplog.at_level(logging.ERROR, logger="cascade.instruments"):
        assert await engine.run(count_to(0, 2)) == 2
    assert raising.calls == 1
    assert len(recorder.calls) == 8  # the other instrument saw everything
    [record] = caplog.records
    assert (
        record.getMessage()
        == f"instrument {raising!r} raised in before_generation(); it is removed"
    )
    assert record.exc_info is not None and str(record.exc_info[1]) == "instrument bug"
    assert await engine.run(count_to(0, 1)) == 1
    assert raising.calls == 1
    with pytest.raises(KeyError):
        engine.remove_instrument(raising)


async def test_engine_instruments_are_added_and_removed():
    recorder = AfterOnly()
    engine, other = cs.Engine(), cs.Engine()
    engine.add_instrument(recorder)
    engine.add_instrument(recorder)  # once only
    await engine.run(count_to(0, 1))
    await other.run(count_to(0, 1))
    assert recorder.generations == [1, 2]
    engine.remove_instrument(recorder)
    await engine.run(count_to(0, 1))
    assert recorder.generations == [1, 2]
    with pytest.raises(KeyError, match="is not registered here"):
        engine.remove_instrument(recorder)
    with pytest.raises(KeyError, match="is not registered here"):
        other.remove_instrument(recorder)


async def test_a_process_wide_instrument_reaches_every_engine_until_it_is_removed():
    before, with_own = cs.Engine(), cs.Engine(instruments=[AfterOnly()])
    process_wide = AfterOnly()
    cs.add_instrument(process_wide)
    after = cs.Engine()
    for engine in (before, with_own, after):
        await engine.run(count_to(0, 1))
    assert process_wide.generations == [1, 2] * 3
    cs.remove_instrument(process_wide)
    for engine in (before, with_own, after):
        await engine.run(count_to(0, 1))
    assert process_wide.generations == [1, 2] * 3  # zero engines call it any more
    with pytest.raises(KeyError):
        cs.remove_instrument(process_wide)


async def test_a_raising_process_wide_instrument_is_removed_for_every_engine(caplog):
    raising = Raising()
    cs.add_instrument(raising)
    engines = [cs.Engine(), cs.Engine(instruments=[AfterOnly()])]
    with caplog.at_level(logging.ERROR, logger="cascade.instruments"):
        for engine in engines:
            await engine.run(count_to(0, 1))
    assert raising.calls == 1
    assert not cs.runtime.instruments.PROCESS.registered()


async def test_an_instrument_registered_twice_over_is_called_once():
    instrument = AfterOnly()
    cs.add_instrument(instrument)
    engine = cs.Engine(instruments=[instrument])
    await engine.run(count_to(0, 1))
    assert instrument.generations == [1, 2]


def test_only_instruments_are_accepted():
    with pytest.raises(TypeError, match=r"an instrument must be a cascade\.Instrument, got 3"):
        cs.Engine(instruments=[3])
    with pytest.raises(TypeError, match=r"an instrument must be a cascade\.Instrument"):
        cs.add_instrument(object())
