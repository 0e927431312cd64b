"""The firefly agent as a Cascade workflow, written with the engine's own primitives.

Each generation is a small graph: an action task (`cs.wait`, `listen` or `fan_out`) feeding
`decide`, which advances the physics and returns the next generation: a tail call.
The connector reaches the tasks through `cs.inject(CONNECTOR)`; how that resource is
registered is the mode's business.
"""

from __future__ import annotations

import asyncio
from typing import Any

import cascade as cs
from bench.workload import physics
from bench.workload.config import FireflyConfig
from bench.workload.physics import Action, Agent, Perception
from cascade.connectors.base import Connector

CONNECTOR = "firefly_connector"
"""The name of the resource that yields the swarm's connector."""


def connector_resource(connector: Connector) -> cs.ResourceDefinition:
    """A run-scoped resource yielding the shared connector (the engine never closes it)."""

    @cs.resource(name=CONNECTOR, scope="run")
    def firefly_connector() -> Any:
        yield connector

    return firefly_connector


@cs.task
async def listen(topic: str, timeout: float, connector: Any = cs.inject(CONNECTOR)) -> Perception:
    """Listen on the agent's inbox until a neighbour flashes or the timeout expires."""
    return await physics.listen(connector, topic, timeout)


@cs.task
async def fan_out(agent: Agent, connector: Any = cs.inject(CONNECTOR)) -> int:
    """Flash: publish to every neighbour's inbox and to the flash topic."""
    return await physics.flash(connector, agent)


@cs.task
def decide(agent: Agent, config: FireflyConfig, action: Action, outcome: Any) -> cs.LazyResult:
    """Advance the physics from the action's outcome and return the next generation."""
    now = asyncio.get_running_loop().time()
    if action is not Action.START:
        physics.advance(agent, config, action, outcome, now)
    return _generation(agent, config, now)


def firefly(agent: Agent, config: FireflyConfig) -> cs.LazyResult:
    """The agent's whole life as one workflow: its first decision, which tail-calls forever."""
    return decide(agent, config, Action.START, None)


def _generation(agent: Agent, config: FireflyConfig, now: float) -> cs.LazyResult:
    action, seconds = physics.plan(agent, config, now)
    if action is Action.WAIT:
        outcome = cs.wait(seconds)
    elif action is Action.LISTEN:
        outcome = listen(agent.inbox, seconds)
    else:
        outcome = fan_out(agent)
    return decide(agent, config, action, outcome)
