"""A swarm: the agents of one run, the broker they talk over and their shared tally."""

from __future__ import annotations

from collections.abc import Iterator

from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent, Tally
from cascade.connectors.local import LocalBroker, LocalBusConnector


class Swarm:
    """Everything the agents of one run share; modes decide how their steps get executed."""

    def __init__(self, config: FireflyConfig) -> None:
        self.config = config
        self.broker = LocalBroker()
        self.connector = LocalBusConnector(self.broker)
        self.tally = Tally()
        self.agents: list[Agent] = []

    def create_agents(self) -> Iterator[Agent]:
        """Create the agents one by one, in id order (so callers can show progress)."""
        for agent_id in range(self.config.agents):
            agent = Agent(agent_id, self.config, self.tally)
            self.agents.append(agent)
            yield agent
