"""The set-up phase alone, for memray: `python -m bench.profiling.setup_only --mode per_agent`.

Creates the swarm and sets up every agent for the mode exactly as a run does (the mode's
engine or engines, each agent's workflow coroutine), never starts them, then closes them.
The memory peak is reached when every agent is set up; `set_up_agents` is the frame that
marks those bytes in memray's stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.workload import FireflyConfig, Swarm, make_config, set_up_agents

SETUP_FUNCTION = "set_up_agents"
"""The function under which every byte of the agents' set-up is allocated."""


async def set_up_and_close(mode_name: str, config: FireflyConfig) -> int:
    """Set up every agent on a connected swarm, then close them all; the number set up."""
    swarm = Swarm(config)
    await swarm.connector.connect()
    lives = set_up_agents(swarm, mode_name)
    for life in lives:
        life.close()  # never started: closing avoids "coroutine was never awaited"
    await swarm.aclose()
    return len(lives)


def main(argv: list[str] | None = None) -> int:
    """Parse the workload options, set up and close the agents, say how many."""
    args = _parser().parse_args(argv)
    config = make_config(
        agents=args.agents,
        grid_side=args.grid_side,
        period=args.period,
        nudge=args.nudge,
        seed=args.seed,
    )
    count = asyncio.run(set_up_and_close(args.mode, config))
    print(f"set up {count} {args.mode} agents")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling.setup_only")
    parser.add_argument("--mode", default="shared")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--grid-side", type=int)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--nudge", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    return parser


if __name__ == "__main__":
    sys.exit(main())
