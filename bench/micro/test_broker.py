"""`LocalBroker.publish` timed until every delivery has reached its subscriber's callback.

`publish` only enqueues; each subscription's worker task awaits the callback. A measured
batch therefore ends only when the callbacks have seen every message: `burst` publishes
all messages and then lets the workers drain their queues (one wake-up per worker per
batch); `paced` yields to the loop after each publish, so that every message wakes its
subscribers' workers, as a listening agent's inbox does in the workload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.micro.batching import Measure
from cascade.connectors.local import LocalBroker

PUBLISHES = 1000
"""Publishes per measured call."""
TOPIC = "firefly/4/inbox"
SUBSCRIPTIONS = {
    "no-subscriber": [],
    "exact8": [TOPIC] * 8,  # eight subscriptions on the published topic
    "wildcard": ["firefly/+/inbox"],
}


class Sink:
    """An async callback that counts deliveries and wakes whoever waits for a count."""

    def __init__(self) -> None:
        self.count = 0
        self._target = 0
        self._done: asyncio.Future[None] | None = None

    def expect(self, deliveries: int) -> asyncio.Future[None]:
        """A future that completes once `deliveries` more messages have arrived."""
        self._done = asyncio.get_running_loop().create_future()
        self._target = self.count + deliveries
        if deliveries == 0:
            self._done.set_result(None)
        return self._done

    async def __call__(self, topic: str, payload: Any) -> None:
        self.count += 1
        if self.count == self._target and self._done is not None:
            self._done.set_result(None)


@pytest.fixture
def broker(loop: asyncio.AbstractEventLoop) -> Iterator[LocalBroker]:
    """A broker on the benchmark's loop; its subscription workers are stopped afterwards."""
    broker = LocalBroker()
    yield broker
    loop.run_until_complete(broker.aclose())


@pytest.mark.benchmark(group="broker")
@pytest.mark.parametrize("paced", [False, True], ids=["burst", "paced"])
@pytest.mark.parametrize("subscribers", list(SUBSCRIPTIONS))
def test_broker_publish(
    benchmark: BenchmarkFixture,
    measure: Measure,
    loop: asyncio.AbstractEventLoop,
    broker: LocalBroker,
    subscribers: str,
    paced: bool,
) -> None:
    """1,000 publishes to one inbox topic, until all their deliveries have completed."""
    sink = Sink()
    for topic_filter in SUBSCRIPTIONS[subscribers]:
        loop.run_until_complete(broker.subscribe(topic_filter, sink))
    deliveries = PUBLISHES * len(SUBSCRIPTIONS[subscribers])
    benchmark.extra_info["deliveries_per_call"] = deliveries

    async def batch() -> None:
        done = sink.expect(deliveries)
        for n in range(PUBLISHES):
            await broker.publish(TOPIC, n)
            if paced:
                await asyncio.sleep(0)
        await done

    measure(batch, PUBLISHES)
