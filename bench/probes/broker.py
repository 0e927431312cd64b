"""The broker's own message rates, from the `$SYS` topics mosquitto (and others) publish.

`$SYS/broker/messages/received` and `.../sent` are the broker's running totals (with
mosquitto's `sys_interval 1`, updated every second); the rate over the run is the growth
of a total between its first and last sample divided by the time between them. A broker
that publishes no `$SYS` leaves the rates None, said in `note`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.probes.base import Probe, ProbeResult
from cascade.connectors.base import Connector, Subscription

TOTALS = {
    "messages_in_per_s": "$SYS/broker/messages/received",
    "messages_out_per_s": "$SYS/broker/messages/sent",
}
CLIENTS = "$SYS/broker/clients/connected"


class BrokerProbe(Probe):
    """Samples the broker's `$SYS` totals while the run lasts."""

    name = "broker"
    timing = True

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._subscriptions: list[Subscription] = []
        self._samples: dict[str, list[tuple[float, float]]] = {
            topic: [] for topic in TOTALS.values()
        }
        self._clients: list[int] = []
        self._measuring = False
        self.sys_messages = 0

    async def subscribe(self) -> None:
        """Subscribe to the `$SYS` topics (before the run starts: a SUBACK round trip)."""
        for topic in (*TOTALS.values(), CLIENTS):
            self._subscriptions.append(await self._connector.subscribe(topic, self._on_message))

    def start(self) -> None:
        """Keep the samples that arrive from now on."""
        self._measuring = True

    async def stop(self) -> None:
        """Stop sampling and unsubscribe."""
        self._measuring = False
        for subscription in self._subscriptions:
            await subscription.unsubscribe()
        self._subscriptions.clear()

    def result(self) -> ProbeResult:
        """Messages in/out per second over the run; peak connected clients."""
        metrics: dict[str, Any] = {
            key: _rate(self._samples[topic]) for key, topic in TOTALS.items()
        }
        metrics["clients_connected_max"] = max(self._clients, default=None)
        metrics["sys_messages"] = self.sys_messages  # received here, not sent by agents
        if metrics["messages_in_per_s"] is None:
            metrics["note"] = "the broker published fewer than two $SYS totals during the run"
        return ProbeResult(metrics=metrics)

    async def _on_message(self, topic: str, payload: Any) -> None:
        self.sys_messages += 1
        try:
            value = float(payload if not isinstance(payload, bytes) else payload.decode())
        except (TypeError, ValueError):
            return
        if topic == CLIENTS:  # published when it changes: its retained value counts too
            self._clients.append(int(value))
        elif self._measuring and topic in self._samples:
            self._samples[topic].append((asyncio.get_running_loop().time(), value))


def _rate(samples: list[tuple[float, float]]) -> float | None:
    if len(samples) < 2:
        return None
    (t0, v0), (t1, v1) = samples[0], samples[-1]
    return (v1 - v0) / (t1 - t0) if t1 > t0 else None
