"""The firefly workload: pulse-coupled oscillators on a toroidal grid, in several modes."""

from bench.workload.capacity import check_memory, memory_needed
from bench.workload.config import FireflyConfig, make_config
from bench.workload.convergence import ConvergenceMonitor, order_parameter
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
