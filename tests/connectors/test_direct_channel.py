"""DirectChannel: a point-to-point FIFO inbox with a virtual-time receive timeout."""

import asyncio

import pytest

from cascade.connectors import DirectChannel


async def test_messages_come_out_in_fifo_order():
    channel = DirectChannel("jobs")
    assert channel.name == "jobs"
    assert channel.empty()
    for n in range(5):
        await channel.send(n)
    channel.send_nowait(5)
    assert channel.qsize() == 6 and not channel.empty()
    assert [await channel.recv() for _ in range(6)] == [0, 1, 2, 3, 4, 5]
    assert channel.empty()


async def test_recv_waits_for_a_later_send():
    channel = DirectChannel()

    async def later():
        await asyncio.sleep(3)
        await channel.send("late")

    sender = asyncio.create_task(later())
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await channel.recv(timeout=10) == "late"
    assert loop.time() - start == pytest.approx(3, abs=0.01)
    await sender


async def test_recv_timeout_raises_after_the_given_loop_time():
    channel = DirectChannel()
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TimeoutError):
        await channel.recv(timeout=2.5)
    assert loop.time() - start == pytest.approx(2.5, abs=0.01)


async def test_recv_with_zero_timeout_returns_a_waiting_message():
    channel = DirectChannel()
    channel.send_nowait("ready")
    assert await channel.recv(timeout=0) == "ready"
    with pytest.raises(TimeoutError):
        await channel.recv(timeout=0)


async def test_negative_timeout_is_rejected():
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        await DirectChannel().recv(timeout=-1)


async def test_bounded_channel_send_nowait_raises_queue_full():
    channel = DirectChannel("bounded", maxsize=2)
    channel.send_nowait("a")
    channel.send_nowait("b")
    with pytest.raises(asyncio.QueueFull):
        channel.send_nowait("c")
    assert channel.qsize() == 2
    assert await channel.recv() == "a"
    channel.send_nowait("c")
    assert [await channel.recv(), await channel.recv()] == ["b", "c"]


async def test_bounded_send_waits_for_room():
    channel = DirectChannel(maxsize=1)
    await channel.send(1)
    blocked = asyncio.create_task(channel.send(2))
    await asyncio.sleep(1)
    assert not blocked.done()
    assert await channel.recv() == 1
    await blocked
    assert await channel.recv(timeout=1) == 2
