"""Where agents sit: a square toroidal grid, each agent with its 8 Moore neighbours."""

from __future__ import annotations

FLASH_TOPIC = "firefly/flash"
"""Every flash is also published here, for the convergence monitor and the renderer."""


def inbox_topic(agent: int) -> str:
    """The topic an agent listens on for its neighbours' flashes."""
    return f"firefly/{agent}/inbox"


def moore_neighbours(agent: int, side: int) -> tuple[int, ...]:
    """The 8 cells around `agent` on a side x side torus, in row-major order."""
    row, col = divmod(agent, side)
    return tuple(
        ((row + dr) % side) * side + (col + dc) % side
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if dr or dc
    )
