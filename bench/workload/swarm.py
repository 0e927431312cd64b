"""A swarm: the agents of one run (or of one zone of it), their connector and shared tally."""

from __future__ import annotations

from collections.abc import Iterator

from bench.workload.config import FireflyConfig
from bench.workload.physics import Agent, Tally
from bench.workload.topology import zone_agents
from cascade.connectors.base import Connector
from cascade.connectors.local import LocalBroker, LocalBusConnector


class Swarm:
    """Everything the agents of one run share; modes decide how their steps get executed.

    Without a connector, the agents talk over a new in-memory broker (`self.broker`).
    With `zone`, only that zone's agents are created: the rest of the grid lives elsewhere
    and is reached through the connector.
    """

    def __init__(
        self, config: FireflyConfig, connector: Connector | None = None, zone: int | None = None
    ) -> None:
        self.config = config
        self.broker: LocalBroker | None = None
        if connector is None:
            self.broker = LocalBroker()
            connector = LocalBusConnector(self.broker)
        self.connector = connector
        self.agent_ids = (
            range(config.agents) if zone is None else zone_agents(zone, config.side, config.zones)
        )
        self.tally = Tally()
        self.agents: list[Agent] = []

    def create_agents(self) -> Iterator[Agent]:
        """Create the agents one by one, in id order (so callers can show progress)."""
        for agent_id in self.agent_ids:
            agent = Agent(agent_id, self.config, self.tally)
            self.agents.append(agent)
            yield agent

    async def aclose(self) -> None:
        """Stop the in-memory broker's deliveries, if the swarm made one (a connector given
        to it is its owner's to close)."""
        if self.broker is not None:
            await self.broker.aclose()
