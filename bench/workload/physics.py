"""The firefly physics, written once and shared by every mode: plan, act, advance.

An agent's phase is `now - cycle_start` on the event loop's clock, so it grows with real
(or virtual) time whatever the engine does between steps. One step is: plan what to do
at this phase (wait out the refractory part, listen, or flash), do it, then advance the
agent's state from the outcome. Engine modes run each step as one workflow generation;
the raw mode runs the same three functions in a plain loop.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass
from typing import Any, TypedDict

from bench.workload.config import FireflyConfig
from bench.workload.topology import FLASH_TOPIC, inbox_topic, moore_neighbours, zone_of
from cascade.connectors.base import Connector


class Action(enum.Enum):
    """What an agent does in one step."""

    START = "start"
    WAIT = "wait"
    LISTEN = "listen"
    FLASH = "flash"


class Perception(TypedDict):
    """What listening on the inbox gave: a neighbour's signal, or a timeout, after `elapsed` s."""

    signal: Any
    timeout: bool
    elapsed: float


@dataclass(slots=True)
class Tally:
    """Workload-level counters, shared by all agents of a swarm."""

    steps: int = 0
    flashes: int = 0
    messages: int = 0
    inbox_misses: int = 0
    signals: int = 0
    agent_errors: int = 0


class Agent:
    """One firefly: where it sits, whom it tells, its phase origin and its own seeded RNG."""

    __slots__ = ("cycle_start", "id", "inbox", "initial_phase", "neighbour_topics", "rng", "tally")

    def __init__(self, agent_id: int, config: FireflyConfig, tally: Tally) -> None:
        self.id = agent_id
        side, zones = config.side, config.zones
        self.inbox = inbox_topic(agent_id, zone_of(agent_id, side, zones))
        self.neighbour_topics = tuple(
            inbox_topic(n, zone_of(n, side, zones)) for n in moore_neighbours(agent_id, side)
        )
        # One RNG per agent: its jitters do not depend on the order agents happen to run in.
        self.rng = random.Random(f"firefly:{config.seed}:{agent_id}")
        self.initial_phase = self.rng.uniform(0.0, config.period)
        self.cycle_start = 0.0
        self.tally = tally

    def start_clock(self, now: float) -> None:
        """Place the agent at its seeded initial phase at time `now`."""
        self.cycle_start = now - self.initial_phase

    def __repr__(self) -> str:
        return f"<Agent {self.id}>"


def plan(agent: Agent, config: FireflyConfig, now: float) -> tuple[Action, float]:
    """The next action at time `now` and, for WAIT and LISTEN, for how many seconds."""
    phase = now - agent.cycle_start
    if phase < config.refractory:
        return Action.WAIT, config.refractory - phase
    remaining = config.period - phase
    if remaining <= 0.0:
        return Action.FLASH, 0.0
    return Action.LISTEN, remaining


def advance(agent: Agent, config: FireflyConfig, action: Action, outcome: Any, now: float) -> None:
    """Update the agent's phase from what its action gave."""
    agent.tally.steps += 1
    # A finished wait or timeout ends its part of the cycle, whatever float rounding or the
    # clock's resolution say: without the `min`, a wait of 1e-10 s could repeat forever.
    if action is Action.WAIT:
        agent.cycle_start = min(agent.cycle_start, now - config.refractory)
    elif action is Action.LISTEN:
        if outcome["timeout"]:
            agent.cycle_start = min(agent.cycle_start, now - config.period)
        else:
            agent.tally.signals += 1
            agent.cycle_start -= config.nudge
    elif action is Action.FLASH:
        agent.cycle_start = now - agent.rng.uniform(0.0, config.jitter)


async def listen(connector: Connector, topic: str, timeout: float) -> Perception:
    """Wait up to `timeout` s for the first message on `topic`; subscribed only meanwhile."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    arrived: asyncio.Future[Any] = loop.create_future()

    async def on_message(_topic: str, payload: Any) -> None:
        if not arrived.done():
            arrived.set_result(payload)

    subscription = await connector.subscribe(topic, on_message)
    try:
        async with asyncio.timeout(timeout):
            signal = await arrived
    except TimeoutError:
        return {"signal": None, "timeout": True, "elapsed": loop.time() - started}
    finally:
        await subscription.unsubscribe()
    return {"signal": signal, "timeout": False, "elapsed": loop.time() - started}


async def flash(connector: Connector, agent: Agent) -> int:
    """Tell every neighbour's inbox and `firefly/flash`; return how many inboxes nobody heard."""
    loop = asyncio.get_running_loop()
    missed = 0
    for topic in agent.neighbour_topics:
        if not await connector.publish(topic, agent.id):
            missed += 1
    tally = agent.tally
    tally.messages += len(agent.neighbour_topics)
    tally.inbox_misses += missed
    tally.flashes += 1
    await connector.publish(FLASH_TOPIC, (agent.id, loop.time()))
    return missed
