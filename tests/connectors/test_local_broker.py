"""LocalBroker: routing, retained messages, per-subscriber FIFO, failures, statistics, shutdown."""

import asyncio
import logging

import pytest

from cascade.connectors import BrokerStatistics, LocalBroker, Subscription


async def wait_for_deliveries(broker: LocalBroker, count: int, spins: int = 20_000) -> None:
    """Yield to the loop until ``count`` callbacks have finished (well or badly)."""
    for _ in range(spins):
        stats = broker.statistics()
        if stats.delivered + stats.callback_errors >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {count} finished callbacks, got {broker.statistics()}")


class Recorder:
    """An async callback that remembers every (topic, payload) it is called with."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, object]] = []

    async def __call__(self, topic: str, payload: object) -> None:
        self.messages.append((topic, payload))

    @property
    def payloads(self) -> list[object]:
        return [payload for _, payload in self.messages]


async def test_exact_subscription_receives_only_its_topic(broker):
    recorder = Recorder()
    subscription = await broker.subscribe("plant/line1", recorder)
    assert isinstance(subscription, Subscription)
    assert subscription.topic_filter == "plant/line1"

    assert await broker.publish("plant/line1", b"on") == 1
    assert await broker.publish("plant/line2", b"off") == 0
    assert await broker.publish("plant/line1/motor", b"off") == 0
    await wait_for_deliveries(broker, 1)
    assert recorder.messages == [("plant/line1", b"on")]


async def test_wildcard_subscriptions_route_by_level(broker):
    one_level, any_level, everything = Recorder(), Recorder(), Recorder()
    await broker.subscribe("sensors/+/temp", one_level)
    await broker.subscribe("sensors/#", any_level)
    await broker.subscribe("#", everything)

    assert await broker.publish("sensors/kiln/temp", 1) == 3
    assert await broker.publish("sensors/kiln/core/temp", 2) == 2
    assert await broker.publish("sensors", 3) == 2
    assert await broker.publish("alarms/kiln", 4) == 1
    await wait_for_deliveries(broker, 8)

    assert one_level.payloads == [1]
    assert any_level.payloads == [1, 2, 3]
    assert everything.payloads == [1, 2, 3, 4]
    assert everything.messages[1] == ("sensors/kiln/core/temp", 2)


async def test_retained_message_reaches_a_late_subscriber_before_live_ones(broker):
    assert await broker.publish("config/mode", "old", retain=True) == 0
    await broker.publish("config/mode", "auto", retain=True)
    await broker.publish("config/other", "x", retain=True)
    recorder = Recorder()
    await broker.subscribe("config/mode", recorder)
    await broker.publish("config/mode", "live")
    await wait_for_deliveries(broker, 2)

    # Only the latest retained payload is kept, and it comes before live messages.
    assert recorder.messages == [("config/mode", "auto"), ("config/mode", "live")]
    assert broker.statistics().retained == 2


async def test_wildcard_late_subscriber_gets_every_matching_retained_message(broker):
    await broker.publish("dev/a/state", "up", retain=True)
    await broker.publish("dev/b/state", "down", retain=True)
    await broker.publish("dev/b/load", 7, retain=True)
    recorder = Recorder()
    await broker.subscribe("dev/+/state", recorder)
    await wait_for_deliveries(broker, 2)
    assert sorted(recorder.messages) == [("dev/a/state", "up"), ("dev/b/state", "down")]


@pytest.mark.parametrize("empty", [None, b"", ""])
async def test_empty_retained_publish_clears_and_still_reaches_current_subscribers(broker, empty):
    await broker.publish("door", b"open", retain=True)
    current = Recorder()
    await broker.subscribe("door", current)
    assert await broker.publish("door", empty, retain=True) == 1
    await wait_for_deliveries(broker, 2)
    assert current.payloads == [b"open", empty]
    assert broker.statistics().retained == 0

    late = Recorder()
    await broker.subscribe("door", late)
    await broker.publish("door", b"sentinel")
    await wait_for_deliveries(broker, 4)
    # FIFO: a retained message would have arrived before the sentinel.
    assert late.payloads == [b"sentinel"]


async def test_non_retained_publish_keeps_the_retained_message(broker):
    await broker.publish("t", "kept", retain=True)
    await broker.publish("t", "transient")
    await broker.publish("t", None)  # empty but not retained: must not clear
    late = Recorder()
    await broker.subscribe("t", late)
    await wait_for_deliveries(broker, 1)
    assert late.payloads == ["kept"]


async def test_unsubscribe_stops_delivery(broker):
    recorder = Recorder()
    subscription = await broker.subscribe("a/+", recorder)
    await broker.publish("a/1", 1)
    await wait_for_deliveries(broker, 1)

    await subscription.unsubscribe()
    await subscription.unsubscribe()  # idempotent
    assert await broker.publish("a/2", 2) == 0
    for _ in range(10):
        await asyncio.sleep(0)
    assert recorder.payloads == [1]
    assert broker.statistics().subscriptions == 0


async def test_unsubscribe_drops_pending_messages_and_cancels_the_worker(broker):
    started, received = asyncio.Event(), []

    async def blocking(topic, payload):
        received.append(payload)
        started.set()
        await asyncio.Event().wait()  # never returns on its own

    before = asyncio.all_tasks()
    subscription = await broker.subscribe("q", blocking)
    assert asyncio.all_tasks() == before  # an idle subscription has no task
    for n in range(3):
        await broker.publish("q", n)
    (worker,) = asyncio.all_tasks() - before  # one delivery task for the pending messages
    await started.wait()

    await subscription.unsubscribe()
    assert worker.cancelled()
    assert received == [0]
    assert broker.statistics().delivered == 0


async def test_unsubscribe_from_its_own_callback_stops_after_that_message(broker):
    received = []

    async def once(topic, payload):
        received.append(payload)
        await subscription.unsubscribe()

    subscription = await broker.subscribe("once", once)
    for n in range(3):
        await broker.publish("once", n)
    await wait_for_deliveries(broker, 1)
    for _ in range(10):
        await asyncio.sleep(0)
    assert received == [0]
    assert broker.statistics().subscriptions == 0


async def test_per_subscriber_order_is_fifo_over_1000_messages(broker):
    fast, slow_payloads = Recorder(), []

    async def slow(topic, payload):
        # Yield at irregular points so the workers interleave differently.
        for _ in range(payload % 3):
            await asyncio.sleep(0)
        slow_payloads.append(payload)

    await broker.subscribe("stream/x", fast)
    await broker.subscribe("stream/#", slow)
    for n in range(1000):
        assert await broker.publish("stream/x", n) == 2
    await wait_for_deliveries(broker, 2000)
    assert fast.payloads == list(range(1000))
    assert slow_payloads == list(range(1000))


async def test_publish_does_not_wait_for_callbacks(broker):
    gate = asyncio.Event()

    async def gated(topic, payload):
        await gate.wait()

    await broker.subscribe("g", gated)
    assert await broker.publish("g", 1) == 1
    assert await broker.publish("g", 2) == 1
    assert broker.statistics().delivered == 0
    gate.set()
    await wait_for_deliveries(broker, 2)
    assert broker.statistics().delivered == 2


async def test_two_brokers_are_independent():
    first, second = LocalBroker(), LocalBroker()
    try:
        on_first, on_second = Recorder(), Recorder()
        await first.subscribe("#", on_first)
        await second.subscribe("#", on_second)

        assert await first.publish("shared/topic", "only-first", retain=True) == 1
        await wait_for_deliveries(first, 1)
        late_on_second = Recorder()
        await second.subscribe("shared/topic", late_on_second)
        assert await second.publish("shared/topic", "only-second") == 2
        await wait_for_deliveries(second, 2)

        assert on_first.payloads == ["only-first"]
        assert on_second.payloads == ["only-second"]
        assert late_on_second.payloads == ["only-second"]
        assert first.statistics().retained == 1
        assert second.statistics().retained == 0
        assert first.statistics().subscriptions == 1
        assert second.statistics().subscriptions == 2
    finally:
        await first.aclose()
        await second.aclose()


async def test_failing_callback_is_logged_counted_and_does_not_stop_delivery(broker, caplog):
    flaky_payloads, steady = [], Recorder()

    async def flaky(topic, payload):
        if payload == "boom":
            raise RuntimeError("callback exploded")
        flaky_payloads.append(payload)

    await broker.subscribe("jobs/+", flaky)
    await broker.subscribe("jobs/#", steady)
    with caplog.at_level(logging.ERROR, logger="cascade.connectors.local"):
        for payload in ["a", "boom", "c"]:
            await broker.publish("jobs/7", payload)
        await wait_for_deliveries(broker, 6)

    assert flaky_payloads == ["a", "c"]
    assert steady.payloads == ["a", "boom", "c"]
    stats = broker.statistics()
    assert (stats.delivered, stats.callback_errors) == (5, 1)
    (record,) = caplog.records
    assert record.name == "cascade.connectors.local"
    assert record.levelno == logging.ERROR
    assert "'jobs/+'" in record.getMessage() and "'jobs/7'" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


async def test_callback_raising_cancelled_error_itself_counts_as_a_failure(broker, caplog):
    received = []

    async def odd(topic, payload):
        if payload == 1:
            raise asyncio.CancelledError
        received.append(payload)

    await broker.subscribe("c", odd)
    with caplog.at_level(logging.ERROR, logger="cascade.connectors.local"):
        for n in range(3):
            await broker.publish("c", n)
        await wait_for_deliveries(broker, 3)
    assert received == [0, 2]
    assert broker.statistics().callback_errors == 1
    assert len(caplog.records) == 1


async def test_statistics_count_published_routed_delivered_unrouted(broker):
    assert broker.statistics() == BrokerStatistics(0, 0, 0, 0, 0, 0, 0)
    await broker.subscribe("a/b", Recorder())
    await broker.subscribe("a/+", Recorder())

    assert await broker.publish("a/b", 1) == 2
    assert await broker.publish("a/c", 2) == 1
    assert await broker.publish("z", 3) == 0
    assert await broker.publish("y", 4, retain=True) == 0
    await wait_for_deliveries(broker, 3)

    assert broker.statistics() == BrokerStatistics(
        published=4,
        routed=3,
        delivered=3,
        unrouted=2,
        callback_errors=0,
        subscriptions=2,
        retained=1,
    )


async def test_retained_replay_counts_as_routed_not_published(broker):
    await broker.publish("r", "v", retain=True)
    await broker.subscribe("r", Recorder())
    await wait_for_deliveries(broker, 1)
    stats = broker.statistics()
    assert (stats.published, stats.routed, stats.unrouted, stats.delivered) == (1, 1, 1, 1)


async def test_aclose_cancels_every_worker_and_leaves_no_task_behind():
    broker = LocalBroker()
    gate = asyncio.Event()

    async def gated(topic, payload):
        await gate.wait()

    before = asyncio.all_tasks()
    await broker.subscribe("a", Recorder())
    await broker.subscribe("a/#", gated)
    await broker.subscribe("+", Recorder())
    await broker.publish("a", "in-flight")
    workers = asyncio.all_tasks() - before
    assert len(workers) == 3  # one delivery task per subscription with a message pending
    for _ in range(5):
        await asyncio.sleep(0)
    assert sum(not worker.done() for worker in workers) == 1  # only the gated one still runs

    await broker.aclose()
    assert all(worker.done() for worker in workers)
    assert sum(worker.cancelled() for worker in workers) == 1
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert broker.statistics().subscriptions == 0
    assert await broker.publish("a", "after") == 0
    await broker.aclose()  # a second close is harmless


async def test_an_idle_subscription_costs_no_task_and_unsubscribes_at_once(broker):
    before = asyncio.all_tasks()
    subscriptions = [await broker.subscribe(f"inbox/{n}", Recorder()) for n in range(100)]
    assert asyncio.all_tasks() == before
    for subscription in subscriptions:
        await subscription.unsubscribe()
    assert broker.statistics().subscriptions == 0


async def test_the_delivery_task_ends_when_nothing_is_pending_and_restarts_for_more(broker):
    recorder = Recorder()
    before = asyncio.all_tasks()
    await broker.subscribe("t", recorder)
    await broker.publish("t", 1)
    await wait_for_deliveries(broker, 1)
    for _ in range(3):
        await asyncio.sleep(0)
    assert asyncio.all_tasks() == before  # delivered: the task is gone
    await broker.publish("t", 2)
    await wait_for_deliveries(broker, 2)
    assert recorder.payloads == [1, 2]


async def test_a_message_published_during_a_delivery_follows_in_order(broker):
    received = []

    async def echo(topic, payload):
        received.append(payload)
        if payload < 3:
            await broker.publish("e", payload + 1)  # enqueued while this delivery runs

    await broker.subscribe("e", echo)
    await broker.publish("e", 0)
    await wait_for_deliveries(broker, 4)
    assert received == [0, 1, 2, 3]


async def test_a_retained_message_reaches_an_exact_subscriber(broker):
    await broker.publish("cfg/a", "A", retain=True)
    await broker.publish("cfg/b", "B", retain=True)
    recorder = Recorder()
    await broker.subscribe("cfg/b", recorder)
    await wait_for_deliveries(broker, 1)
    assert recorder.payloads == ["B"]
    assert broker.statistics().routed == 1
