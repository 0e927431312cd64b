"""LocalBusConnector: the Connector contract over a shared LocalBroker."""

import asyncio
import re

import pytest

from cascade.connectors import Connector, LocalBusConnector, Subscription

NOT_CONNECTED = "LocalBusConnector is not connected: call 'await connector.connect()' first"


class Inbox:
    """An async callback that records payloads and lets a test await the n-th one."""

    def __init__(self) -> None:
        self.payloads: list[object] = []
        self._changed = asyncio.Event()

    async def __call__(self, topic: str, payload: object) -> None:
        self.payloads.append(payload)
        self._changed.set()

    async def wait_for(self, count: int) -> list[object]:
        async with asyncio.timeout(1):
            while len(self.payloads) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.payloads


async def settle() -> None:
    """Give every ready worker a few turns of the loop."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_connector_satisfies_the_protocol(broker):
    connector = LocalBusConnector(broker)
    assert isinstance(connector, Connector)
    await connector.connect()
    subscription = await connector.subscribe("x/+", Inbox())
    assert isinstance(subscription, Subscription)
    assert subscription.topic_filter == "x/+"
    await connector.disconnect()


@pytest.mark.parametrize("operation", ["publish", "subscribe"])
async def test_not_connected_raises_connection_error(broker, operation):
    connector = LocalBusConnector(broker)
    call = {
        "publish": lambda: connector.publish("t", b"x"),
        "subscribe": lambda: connector.subscribe("t", Inbox()),
    }[operation]
    assert not connector.is_connected
    with pytest.raises(ConnectionError, match=f"^{re.escape(NOT_CONNECTED)}$"):
        await call()

    await connector.connect()
    await connector.disconnect()
    with pytest.raises(ConnectionError, match=f"^{re.escape(NOT_CONNECTED)}$"):
        await call()
    assert broker.statistics().published == 0
    assert broker.statistics().subscriptions == 0


async def test_publish_and_subscribe_go_through_the_broker(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    inbox = Inbox()
    await connector.subscribe("orders/#", inbox)
    assert await connector.publish("orders/42", {"qty": 3}) == 1
    assert await connector.publish("orders/43", None, retain=True) == 1
    assert await inbox.wait_for(2) == [{"qty": 3}, None]
    await connector.disconnect()


async def test_disconnecting_one_connector_keeps_anothers_subscriptions(broker):
    first, second = LocalBusConnector(broker), LocalBusConnector(broker)
    await first.connect()
    await second.connect()
    first_inbox, second_inbox = Inbox(), Inbox()
    await first.subscribe("shared", first_inbox)
    await second.subscribe("shared", second_inbox)
    await second.subscribe("second/only", second_inbox)
    assert broker.statistics().subscriptions == 3

    await first.disconnect()
    assert not first.is_connected and second.is_connected
    assert broker.statistics().subscriptions == 2
    assert await second.publish("shared", "after") == 1
    assert await second_inbox.wait_for(1) == ["after"]
    await settle()
    assert first_inbox.payloads == []
    await second.disconnect()
    assert broker.statistics().subscriptions == 0


async def test_disconnect_leaves_subscriptions_made_directly_on_the_broker(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    await connector.subscribe("t", Inbox())
    direct = Inbox()
    await broker.subscribe("t", direct)
    await connector.disconnect()
    assert await broker.publish("t", 1) == 1
    assert await direct.wait_for(1) == [1]


async def test_connect_and_disconnect_are_idempotent(broker):
    connector = LocalBusConnector(broker)
    await connector.disconnect()  # before any connect: harmless
    await connector.connect()
    await connector.connect()
    assert connector.is_connected
    inbox = Inbox()
    await connector.subscribe("t", inbox)

    await connector.disconnect()
    await connector.disconnect()
    assert not connector.is_connected
    assert broker.statistics().subscriptions == 0

    # Reconnecting works, but subscriptions dropped by disconnect stay dropped.
    await connector.connect()
    assert await connector.publish("t", "x") == 0
    await connector.disconnect()


async def test_unsubscribing_directly_then_disconnecting_is_harmless(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    subscription = await connector.subscribe("t", Inbox())
    keep = await connector.subscribe("k", Inbox())
    await subscription.unsubscribe()
    await subscription.unsubscribe()
    assert broker.statistics().subscriptions == 1
    await connector.disconnect()
    await keep.unsubscribe()
    assert broker.statistics().subscriptions == 0
