"""A smoke demonstration of the engine: N recursive agents in three layouts, side by side.

It stands in for `make bench` until the firefly workload and the suites land. Each agent
tail-calls itself for a number of generations; the layouts differ only in how many
Engines carry them (one each, one shared, none).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import cascade as cs


@dataclass(frozen=True, slots=True)
class SmokeResult:
    """What one layout cost for the same number of agent generations."""

    layout: str
    agents: int
    generations: int
    wall_seconds: float
    cpu_seconds: float

    @property
    def cpu_us_per_generation(self) -> float:
        """CPU microseconds spent per agent generation."""
        return self.cpu_seconds / self.generations * 1e6


@cs.task
async def tick(agent: int, left: int) -> cs.LazyResult | int:
    """One generation of an agent: yield to the loop, then tail-call the next generation."""
    await asyncio.sleep(0)
    return agent if left == 0 else tick(agent, left - 1)


async def _per_agent(agents: int, generations: int) -> None:
    await asyncio.gather(*(cs.Engine().run(tick(a, generations - 1)) for a in range(agents)))


async def _shared(agents: int, generations: int) -> None:
    engine = cs.Engine()
    await asyncio.gather(*(engine.run(tick(a, generations - 1)) for a in range(agents)))


async def _raw(agents: int, generations: int) -> None:
    async def agent() -> None:
        for _ in range(generations):
            await asyncio.sleep(0)

    await asyncio.gather(*(agent() for _ in range(agents)))


LAYOUTS: dict[str, Callable[[int, int], Coroutine[Any, Any, None]]] = {
    "per_agent": _per_agent,
    "shared": _shared,
    "raw": _raw,
}


def run_smoke(agents: int, generations: int, layouts: list[str] | None = None) -> list[SmokeResult]:
    """Run each layout once, one after the other, in a fresh event loop each."""
    results = []
    for name in layouts or list(LAYOUTS):
        wall, cpu = time.perf_counter(), time.process_time()
        asyncio.run(LAYOUTS[name](agents, generations))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        results.append(SmokeResult(name, agents, agents * generations, wall, cpu))
    return results


def format_table(results: list[SmokeResult]) -> str:
    """A plain-text table of the results, with the ratio to the raw layout when present."""
    raw = next((r for r in results if r.layout == "raw"), None)
    lines = [
        f"{'layout':<10} {'gens':>8} {'wall s':>8} {'cpu s':>8} {'cpu us/gen':>11} {'x raw':>7}"
    ]
    for r in results:
        ratio = f"{r.cpu_us_per_generation / raw.cpu_us_per_generation:7.1f}" if raw else "      -"
        lines.append(
            f"{r.layout:<10} {r.generations:>8} {r.wall_seconds:>8.3f} {r.cpu_seconds:>8.3f} "
            f"{r.cpu_us_per_generation:>11.1f} {ratio}"
        )
    return "\n".join(lines)
