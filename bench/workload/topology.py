"""Where agents sit: a square toroidal grid, each agent with its 8 Moore neighbours.

The grid is cut into `zones`: horizontal stripes of whole rows, as even as the side allows.
An agent's inbox topic names its zone, `firefly/<zone>/<agent>/inbox`, the way MQTT
deployments put a region in their topics: whoever carries a zone subscribes to all of its
inboxes with one filter, `firefly/<zone>/+/inbox`, however many agents it holds.
"""

from __future__ import annotations

FLASH_TOPIC = "firefly/flash"
"""Every flash is also published here, for the convergence monitor and the renderer."""


def inbox_topic(agent: int, zone: int = 0) -> str:
    """The topic an agent listens on for its neighbours' flashes."""
    return f"firefly/{zone}/{agent}/inbox"


def zone_filter(zone: int) -> str:
    """The one topic filter that covers every inbox of a zone."""
    return f"firefly/{zone}/+/inbox"


def zone_of(agent: int, side: int, zones: int) -> int:
    """The zone (stripe of rows) that `agent` sits in."""
    row = agent // side
    return ((row + 1) * zones - 1) // side


def zone_agents(zone: int, side: int, zones: int) -> range:
    """The agents of a zone: rows `zone*side//zones` up to the next zone's first row."""
    first_row, end_row = zone * side // zones, (zone + 1) * side // zones
    return range(first_row * side, end_row * side)


def moore_neighbours(agent: int, side: int) -> tuple[int, ...]:
    """The 8 cells around `agent` on a side x side torus, in row-major order."""
    row, col = divmod(agent, side)
    return tuple(
        ((row + dr) % side) * side + (col + dc) % side
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if dr or dc
    )
