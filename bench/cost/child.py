"""The measured process: `python -m bench.cost.child --mode M --agents N --duration D`.

Runs the firefly workload in-process on looptime's virtual clock, WITHOUT probes (no
memory or object censuses, no convergence monitor), then prints one JSON line of counts:
{"agents", "generations", "steps", "messages", "flashes"}. The same arguments give the
same work on every run. `--duration 0` sets the agents up and runs nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any

import cascade as cs
from bench.loops import loop_factory
from bench.workload import FireflyConfig, Mode, Swarm, get_mode, make_config


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The child's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bench.cost.child")
    parser.add_argument("--mode", default="shared")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--nudge", type=float, default=0.2)
    parser.add_argument("--slowdown-iterations", type=int, default=0)
    return parser.parse_args(argv)


async def run_workload(config: FireflyConfig, mode_name: str, duration: float) -> dict[str, int]:
    """Set up every agent, run them for `duration` seconds of the loop's clock, stop them."""
    swarm = Swarm(config)
    await swarm.connector.connect()
    mode: Mode = get_mode(mode_name)(swarm)
    lives: list[Coroutine[Any, Any, Any]] = [mode.agent(agent) for agent in swarm.create_agents()]
    if duration > 0:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for agent in swarm.agents:
            agent.start_clock(started)
        tasks = [loop.create_task(life) for life in lives]
        await asyncio.sleep(duration)
        counts = _counts(swarm, mode)  # before the agents stop: the state at the end
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        failed = [o for o in outcomes if not isinstance(o, asyncio.CancelledError | None)]
        counts["agent_errors"] += len(failed)
    else:
        counts = _counts(swarm, mode)
        for life in lives:
            life.close()
    await swarm.connector.disconnect()
    await swarm.aclose()
    return counts


def _counts(swarm: Swarm, mode: Mode) -> dict[str, int]:
    tally = swarm.tally
    return {
        "agents": len(swarm.agents),
        "generations": mode.generations(),
        "steps": tally.steps,
        "messages": tally.messages,
        "flashes": tally.flashes,
        "agent_errors": tally.agent_errors,
    }


def main(argv: list[str] | None = None) -> int:
    """Run once and print the counts as one JSON line."""
    args = parse(argv)
    # make_config refuses duration <= 0; the set-up-only run asks for 0 on purpose.
    config = make_config(
        agents=args.agents,
        period=args.period,
        nudge=args.nudge,
        duration=max(args.duration, 1.0),
        seed=args.seed,
    )
    get_mode(args.mode)
    if args.slowdown_iterations:
        from bench.cost.spin import InstructionSlowdown

        cs.add_instrument(InstructionSlowdown(args.slowdown_iterations))
    with asyncio.Runner(loop_factory=loop_factory("asyncio", "virtual")) as runner:
        counts = runner.run(run_workload(config, args.mode, args.duration))
    print(json.dumps(counts), flush=True)
    return 1 if counts["agent_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
