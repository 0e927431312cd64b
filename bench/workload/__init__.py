"""The firefly workload: pulse-coupled oscillators on a toroidal grid, in several modes.

The convergence monitor (numpy) and the memory check (psutil) load on first use, so a
process that only runs agents (the instruction-count child) imports neither.
"""

from typing import TYPE_CHECKING, Any

from bench.workload.config import FireflyConfig, make_config
from bench.workload.modes import (
    MODES,
    Mode,
    floor_mode,
    gate_modes,
    get_mode,
    ratio_columns,
    register,
    set_up_agents,
)
from bench.workload.physics import Agent, Tally
from bench.workload.swarm import Swarm

if TYPE_CHECKING:
    from bench.workload.capacity import check_memory, memory_needed
    from bench.workload.convergence import ConvergenceMonitor, order_parameter

__all__ = [
    "MODES",
    "Agent",
    "ConvergenceMonitor",
    "FireflyConfig",
    "Mode",
    "Swarm",
    "Tally",
    "check_memory",
    "floor_mode",
    "gate_modes",
    "get_mode",
    "make_config",
    "memory_needed",
    "order_parameter",
    "ratio_columns",
    "register",
    "set_up_agents",
]

_LAZY = {
    "ConvergenceMonitor": "bench.workload.convergence",
    "order_parameter": "bench.workload.convergence",
    "check_memory": "bench.workload.capacity",
    "memory_needed": "bench.workload.capacity",
}


def __getattr__(name: str) -> Any:
    """Load the lazy names (PEP 562) from their module on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
