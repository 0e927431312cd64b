"""LoopTurns: whether the event loop ran other callbacks since a mark."""

import asyncio

from cascade.runtime.loop_turns import LoopTurns


async def test_the_count_stays_while_nothing_suspends():
    turns = LoopTurns()
    mark = turns.mark()
    sum(range(1000))  # synchronous work only
    assert turns.mark() == mark
    assert not turns.moved(mark)


async def test_the_count_moves_once_the_caller_has_waited():
    turns = LoopTurns()
    mark = turns.mark()
    await asyncio.sleep(0)
    assert turns.moved(mark)


async def test_a_wait_that_did_not_suspend_does_not_count():
    turns = LoopTurns()
    done = asyncio.get_running_loop().create_future()
    done.set_result(1)
    mark = turns.mark()
    assert await done == 1  # a finished future returns at once: the loop never ran
    assert not turns.moved(mark)


async def test_one_pending_callback_serves_every_mark_of_a_pass():
    turns = LoopTurns()
    loop = asyncio.get_running_loop()
    before = len(loop._ready)  # what call_soon queued is the point
    marks = {turns.mark() for _ in range(100)}
    assert len(marks) == 1
    assert len(loop._ready) == before + 1


async def _mark_and_stop(turns: LoopTurns) -> int:
    asyncio.get_running_loop().stop()  # this pass is the loop's last one
    return turns.mark()


async def _waited(turns: LoopTurns) -> bool:
    mark = turns.mark()
    await asyncio.sleep(0)
    return turns.moved(mark)


def test_a_callback_left_on_a_closed_loop_is_scheduled_again_on_the_next_one():
    turns = LoopTurns()
    first = asyncio.new_event_loop()
    first.run_until_complete(_mark_and_stop(turns))
    assert turns._pending_on is first  # its callback never ran there
    first.close()
    assert asyncio.run(_waited(turns))


def test_a_callback_left_on_a_loop_that_stopped_is_replaced_on_the_running_one():
    turns = LoopTurns()
    first = asyncio.new_event_loop()
    try:
        first.run_until_complete(_mark_and_stop(turns))
        second = asyncio.new_event_loop()
        try:
            assert second.run_until_complete(_waited(turns))
            # The first loop's callback runs after all (one pass of it): the count moves,
            # and the second loop gets its own callback again.
            count = turns._count
            first.call_soon(first.stop)
            first.run_forever()
            assert turns._count == count + 1
            assert second.run_until_complete(_waited(turns))
        finally:
            second.close()
    finally:
        first.close()
