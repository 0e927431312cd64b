"""The measured process: `python -m bench.cost.child --mode M --agents N --duration D`.

Runs the firefly workload in-process on looptime's virtual clock, WITHOUT probes (no
memory or object censuses, no convergence monitor), in segments: start-up, set-up of a
few agents and their take-down, set-up of N agents, a warm-up of W seconds, then the
measured D seconds. It calls `os.sched_yield()` at the end of each segment: a marker that
does nothing here and that callgrind, told `--dump-before=sched_yield`, turns into one
profile per segment. It prints one JSON line: the segments in order, each with its counts
(agents set up; generations, steps, messages and flashes run), and with `--opcodes` the
Python bytecodes each function executed in the measured segment. The same arguments give
the same work on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

# The memory layout: BENCH_COST_LAYOUT=N allocates N small strings before anything else,
# which moves the addresses of everything allocated after them. Addresses decide which hot
# (type, attribute) pairs collide in CPython's method cache, so an innocent change can
# move the count by ~0.2% (once by 2.2%); measuring at several layouts outvotes that.
LAYOUT = [str(index) * 3 for index in range(int(os.environ.get("BENCH_COST_LAYOUT", "0")))]

# looptime defines a pytest fixture when pytest imports; a None entry makes that import fail
# (the import system's documented "blocked" marker), which spares the measured process
# ~10 s of start-up under valgrind. Start-up is left out of every figure either way.
sys.modules.setdefault("pytest", None)  # type: ignore[arg-type]

import cascade as cs  # noqa: E402
from bench.cost.opcodes import OpcodeCounter  # noqa: E402
from bench.cost.segments import RUN_COUNTS  # noqa: E402
from bench.loops import loop_factory  # noqa: E402
from bench.workload import FireflyConfig, Mode, Swarm, get_mode, make_config  # noqa: E402


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The child's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bench.cost.child")
    parser.add_argument("--mode", default="shared")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--setup-agents", type=int, default=25)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period", type=float, default=5.0)
    parser.add_argument("--nudge", type=float, default=0.2)
    parser.add_argument("--slowdown-iterations", type=int, default=0)
    parser.add_argument("--opcodes", action="store_true")
    return parser.parse_args(argv)


class _SetUp:
    """One swarm, its mode and its agents' (unstarted) lives."""

    def __init__(self, config: FireflyConfig, mode_name: str) -> None:
        self.swarm = Swarm(config)
        self.mode: Mode = get_mode(mode_name)(self.swarm)
        self.lives: list[Coroutine[Any, Any, Any]] = []

    async def start(self) -> None:
        await self.swarm.connector.connect()
        self.lives = [self.mode.agent(agent) for agent in self.swarm.create_agents()]

    def counts(self) -> dict[str, int]:
        tally = self.swarm.tally
        return {
            "generations": self.mode.generations(),
            "steps": tally.steps,
            "messages": tally.messages,
            "flashes": tally.flashes,
        }

    async def close(self) -> None:
        await self.swarm.connector.disconnect()
        await self.swarm.aclose()


async def run_segments(
    config: FireflyConfig,
    few: FireflyConfig,
    mode_name: str,
    warmup: float,
    duration: float,
    counter: OpcodeCounter | None = None,
    marker: Callable[[], None] = os.sched_yield,
) -> dict[str, Any]:
    """Run the segments of bench.cost.segments.SEGMENTS, calling `marker` at the end of
    each; return their counts and the agents' errors. `counter` counts the bytecodes of the
    measured segment."""
    segments: list[dict[str, Any]] = []

    def end(name: str, **counts: int) -> None:
        marker()
        segments.append({"name": name, **counts})

    end("start-up")
    small = _SetUp(few, mode_name)
    await small.start()
    end("set-up-other", agents=len(small.lives))
    for life in small.lives:
        life.close()
    await small.close()
    end("take-down-other")
    big = _SetUp(config, mode_name)
    await big.start()
    end("set-up", agents=len(big.lives))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for agent in big.swarm.agents:
        agent.start_clock(started)
    tasks = [loop.create_task(life) for life in big.lives]
    await asyncio.sleep(warmup)
    before = big.counts()
    end("warm-up", **before)
    if counter is not None:
        counter.start()
    await asyncio.sleep(duration)
    if counter is not None:
        counter.stop()
    after = big.counts()
    end("measured", **{key: after[key] - before[key] for key in RUN_COUNTS})
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failed = [o for o in outcomes if not isinstance(o, asyncio.CancelledError | None)]
    await big.close()
    return {"segments": segments, "agent_errors": big.swarm.tally.agent_errors + len(failed)}


def main(argv: list[str] | None = None) -> int:
    """Run once and print the segments (and the opcodes) as one JSON line."""
    args = parse(argv)
    common = {"period": args.period, "nudge": args.nudge, "seed": args.seed}
    total = max(args.warmup + args.duration, 1.0)  # the config's own duration is not used
    config = make_config(agents=args.agents, duration=total, **common)
    few = make_config(agents=args.setup_agents, duration=total, **common)
    get_mode(args.mode)
    if args.slowdown_iterations:
        from bench.cost.spin import InstructionSlowdown

        cs.add_instrument(InstructionSlowdown(args.slowdown_iterations))
    counter = OpcodeCounter() if args.opcodes else None
    with asyncio.Runner(loop_factory=loop_factory("asyncio", "virtual")) as runner:
        done = runner.run(run_segments(config, few, args.mode, args.warmup, args.duration, counter))
    if counter is not None:
        done["opcodes"] = counter.by_function()
    print(json.dumps(done), flush=True)
    return 1 if done["agent_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
