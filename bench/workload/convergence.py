"""How synchronised the swarm is: the Kuramoto order parameter R, from the flashes it sees.

Each agent's phase is estimated from its last flash, θ = 2π·((now - t_flash) mod period)/period,
and R = |mean(exp(iθ))| over the agents that have flashed at least once: 0 = incoherent,
1 = all flash together. Computed with numpy so 10,000 agents cost microseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.workload.topology import FLASH_TOPIC
from cascade.connectors.base import Connector, Subscription


def order_parameter(last_flash: np.ndarray, now: float, period: float) -> float | None:
    """R over the agents with a known last flash (NaN = never flashed); None if there are none."""
    known = last_flash[~np.isnan(last_flash)]
    if known.size == 0:
        return None
    theta = (2.0 * np.pi / period) * np.mod(now - known, period)
    return min(1.0, float(np.abs(np.exp(1j * theta).mean())))


class ConvergenceMonitor:
    """Subscribes to the flash topic; samples R and the flash rate every `interval` seconds.

    `on_flash(agent)` is also told of every flash (the runner feeds the frame renderer).
    `arrival_time`: date a flash by when it arrives here rather than by the time in its
    message, which another process or host's loop clock wrote (sharded runs).
    """

    def __init__(
        self,
        agents: int,
        period: float,
        interval: float = 1.0,
        on_flash: Callable[[int], None] | None = None,
        arrival_time: bool = False,
    ) -> None:
        self.period = period
        self._arrival_time = arrival_time
        self._on_flash_listener = on_flash
        self.interval = interval
        self._last_flash = np.full(agents, np.nan)
        self._flashes_this_interval = 0
        self._series: dict[str, list[Any]] = {"t_s": [], "r": [], "flashes_per_s": [], "seen": []}
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._last_sample = 0.0

    async def start(self, connector: Connector) -> None:
        """Begin listening for flashes and sampling."""
        loop = asyncio.get_running_loop()
        self._started = self._last_sample = loop.time()
        self._subscription = await connector.subscribe(FLASH_TOPIC, self._on_flash)
        self._task = loop.create_task(self._sample_forever(), name="convergence-monitor")

    async def stop(self) -> None:
        """Stop sampling and listening."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    def record(self, agent: int, at: float) -> None:
        """Note that `agent` flashed at loop time `at`."""
        self._last_flash[agent] = at
        self._flashes_this_interval += 1
        if self._on_flash_listener is not None:
            self._on_flash_listener(agent)

    def result(self) -> dict[str, Any]:
        """Final R (mean over the last period's samples), max R, and the per-interval series."""
        r = [value for value in self._series["r"] if value is not None]
        last = max(1, round(self.period / self.interval))
        return {
            "order_parameter_final": float(np.mean(r[-last:])) if r else None,
            "order_parameter_max": max(r) if r else None,
            "agents_seen_flashing": int(np.count_nonzero(~np.isnan(self._last_flash))),
        }

    def latest_order_parameter(self) -> float | None:
        """The most recent R sample (None before the first)."""
        values = self._series["r"]
        return values[-1] if values else None

    def series(self) -> dict[str, list[Any]]:
        """R, flashes per second and agents seen, one sample per interval."""
        return self._series

    async def _on_flash(self, _topic: str, payload: tuple[int, float]) -> None:
        agent, at = payload
        self.record(agent, asyncio.get_running_loop().time() if self._arrival_time else at)

    async def _sample_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            self._sample(loop.time())

    def _sample(self, now: float) -> None:
        s = self._series
        s["t_s"].append(round(now - self._started, 6))
        s["r"].append(order_parameter(self._last_flash, now, self.period))
        # Divide by the time actually covered: a starved loop wakes the sampler late.
        covered = now - self._last_sample
        s["flashes_per_s"].append(self._flashes_this_interval / covered if covered > 0 else 0.0)
        self._last_sample = now
        s["seen"].append(int(np.count_nonzero(~np.isnan(self._last_flash))))
        self._flashes_this_interval = 0
