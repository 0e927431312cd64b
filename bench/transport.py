"""What carries the agents' messages in one process: the in-memory broker, or MQTT.

A transport owns its connector: it opens and closes it, and says what it counted. The
workload sees only the connector; probes wrap it (delivery latency) without knowing which.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any

from bench.errors import BenchError
from cascade.connectors.base import Connector
from cascade.connectors.local import LocalBroker, LocalBusConnector

TRANSPORTS = ("local", "mqtt")


def check_transport(name: str) -> None:
    """Refuse an unknown transport name, listing the valid ones."""
    if name not in TRANSPORTS:
        raise BenchError(f"unknown transport {name!r}; choose one of: {', '.join(TRANSPORTS)}")


class Transport(ABC):
    """Opens and closes one connector and reports what went through it."""

    name: str
    connector: Connector

    async def open(self) -> None:
        """Connect; a BenchError naming the broker if it cannot be reached."""
        await self.connector.connect()

    @abstractmethod
    async def close(self) -> None:
        """Disconnect and stop deliveries; idempotent."""

    @abstractmethod
    def delivered(self) -> int:
        """Messages handed to a subscriber's callback."""

    @abstractmethod
    def unheard(self) -> int:
        """Messages that reached this process but no subscriber (publishers cannot tell)."""

    @abstractmethod
    def metrics(self) -> dict[str, Any]:
        """The counters of `metrics.transport`, with `kind` and `degraded`."""


class LocalTransport(Transport):
    """The in-memory broker: a publish returns how many subscribers it reached."""

    name = "local"

    def __init__(self) -> None:
        self.broker = LocalBroker()
        self.connector = LocalBusConnector(self.broker)

    async def close(self) -> None:
        """Stop every subscription's deliveries."""
        await self.connector.disconnect()
        await self.broker.aclose()

    def delivered(self) -> int:
        """Callbacks the broker completed."""
        return self.broker.statistics().delivered

    def unheard(self) -> int:
        """Nothing: `publish` told the publisher, which counted it as an inbox miss."""
        return 0

    def metrics(self) -> dict[str, Any]:
        """The broker's counters."""
        return {"kind": self.name, "degraded": False, **asdict(self.broker.statistics())}


class MqttTransport(Transport):
    """One MQTT connection for the process, subscribed once to its zone's inboxes."""

    name = "mqtt"

    def __init__(self, url: str, standing: tuple[str, ...], client_id: str) -> None:
        from cascade.connectors.mqtt import MqttConnector  # only MQTT runs need gmqtt

        self.url = url
        self.mqtt = MqttConnector(url, standing=standing, client_id=client_id)
        self.connector = self.mqtt
        self.outages = 0
        self.mqtt.on_connection_change(self._changed)

    async def open(self) -> None:
        """Connect to the broker, or say which one could not be reached."""
        try:
            await self.mqtt.connect()
        except (ConnectionError, OSError) as error:
            raise BenchError(
                f"cannot connect to the MQTT broker at {self.url}: {error}; "
                "start one, or give --broker auto"
            ) from None

    async def close(self) -> None:
        """Disconnect (subscriptions end with the connection)."""
        await self.mqtt.disconnect()

    def delivered(self) -> int:
        """Callbacks completed for messages received from the broker."""
        return self.mqtt.statistics().delivered

    def unheard(self) -> int:
        """Messages the broker brought that no agent was listening for."""
        return self.mqtt.statistics().unrouted

    def metrics(self) -> dict[str, Any]:
        """The connector's counters; degraded when the connection was lost or a publish was."""
        stats = asdict(self.mqtt.statistics())
        degraded = bool(self.outages or stats["lost"])
        return {"kind": self.name, "url": self.url, "degraded": degraded, **stats}

    def _changed(self, connected: bool) -> None:
        if not connected:
            self.outages += 1


def open_transport(
    name: str, *, url: str | None = None, standing: tuple[str, ...] = (), client_id: str = ""
) -> Transport:
    """A transport by name; `mqtt` needs the broker's URL."""
    check_transport(name)
    if name == "local":
        return LocalTransport()
    if url is None:
        raise BenchError("--transport mqtt needs a broker: give --broker auto or mqtt://host:port")
    return MqttTransport(url, standing, client_id)
