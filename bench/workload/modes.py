"""How agents get executed: one small strategy per mode, selected by name from MODES.

Every mode runs the same physics on the same broker; they differ only in what carries an
agent's steps. A later mode (an engine fast path, another engine) is ONE class here,
decorated with `@register`: it declares how the report names and draws it, the ratio
columns it heads, and whether the gate measures it; the report, the suite's tables, the
gate's defaults and the asv suite read those declarations from MODES.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

import cascade as cs
from bench.errors import BenchError
from bench.workload import physics
from bench.workload.physics import Action, Agent
from bench.workload.swarm import Swarm
from bench.workload.workflow import connector_resource, firefly

KIB = 1024


class Mode(ABC):
    """Turns each agent into the coroutine that lives its whole life; counts generations."""

    name: ClassVar[str]
    description: ClassVar[str]
    bytes_per_agent: ClassVar[int]
    """Peak memory per agent of a run, set-up and running, measured and rounded up by about
    25%; `bench.workload.capacity` refuses runs that would not fit.

    Measured on the project's 2-core machine (Python 3.11.7, commit c58dd17, 2026-12-05),
    one run at a time: `python -m bench run --mode M --agents N --duration 3 --quiet` under
    `/usr/bin/time -f %M`, N = 10,000 and 40,000, taking (maximum RSS - the run's
    `memory.rss_baseline_bytes`) / N; the maximum RSS also holds the peaks between the
    memory probe's samples. Both sizes gave the same figure (within 1.5%): growth is linear.
    The growth at the end of a run is nearly twice that after set-up: running agents hold
    tasks, subscriptions and messages.
    """
    label: ClassVar[str]
    """How the report's sentences name it: "the shared engine"."""
    colour: ClassVar[str]
    """Its colour in every plot of the report, as "#rrggbb"."""
    ratios_to: ClassVar[Mapping[str, str]] = {}
    """The ratio columns of every suite table that this mode heads: {other mode: what the
    ratio of this mode to it tells}; {"raw": ...} on shared is the column "shared/raw"."""
    gated: ClassVar[bool] = True
    """Whether the regression gate measures it unless told otherwise (`GateSettings.modes`)."""
    floor: ClassVar[bool] = False
    """Whether it is the floor: the same work without an engine, which the report measures
    the other modes against. One mode at most."""

    def __init__(self, swarm: Swarm) -> None:
        self.swarm = swarm

    @abstractmethod
    def agent(self, agent: Agent) -> Coroutine[Any, Any, Any]:
        """Set up one agent (this is the 'setup' cost) and return its not-yet-started life."""

    @abstractmethod
    def engines(self) -> list[cs.Engine]:
        """The engines this mode created (empty for modes without an engine)."""

    def generations(self) -> int:
        """Workflow generations (tail calls) executed so far; raw counts its loop steps."""
        return sum(engine.statistics().generations for engine in self.engines())


MODES: dict[str, type[Mode]] = {}
"""Every mode by name, in the order reports show them: the order of the classes below."""

_M = TypeVar("_M", bound=type[Mode])


def register(mode: _M) -> _M:
    """Add a mode class to MODES (a class decorator), once it declares what a mode must."""
    required = ("name", "description", "bytes_per_agent", "label", "colour")
    missing = [key for key in required if not hasattr(mode, key)]
    if missing:
        raise TypeError(f"mode {mode.__name__} does not declare {', '.join(missing)}")
    if mode.name in MODES:
        raise ValueError(f"a mode called {mode.name!r} is registered already")
    if mode.floor and (floor := floor_mode()):
        raise ValueError(f"mode {mode.name!r} cannot be the floor: {floor!r} is")
    MODES[mode.name] = mode
    return mode


def ratio_columns() -> list[tuple[str, str]]:
    """Every ratio column of the suite tables as (numerator, denominator), in MODES order."""
    return [(name, other) for name, mode in MODES.items() for other in mode.ratios_to]


def gate_modes() -> tuple[str, ...]:
    """The modes the gate measures unless told otherwise, in MODES order."""
    return tuple(name for name, mode in MODES.items() if mode.gated)


def floor_mode() -> str | None:
    """The name of the floor mode (raw), None when no registered mode is the floor."""
    return next((name for name, mode in MODES.items() if mode.floor), None)


@register
class PerAgentMode(Mode):
    """The original layout: a new Engine (own MessageBus) per agent, each registering the
    connector as a run-scoped resource."""

    name = "per_agent"
    description = "one cs.Engine per agent (the original, heavy layout)"
    bytes_per_agent = 17 * KIB  # measured 13,822 and 13,912 bytes (10,000 and 40,000 agents)
    label = "per-agent engines"
    colour = "#d62728"  # red
    ratios_to = {"shared": "what sharing one engine saves"}

    def __init__(self, swarm: Swarm) -> None:
        super().__init__(swarm)
        self._engines: list[cs.Engine] = []

    def agent(self, agent: Agent) -> Coroutine[Any, Any, Any]:
        """A fresh Engine for this agent, and its workflow on it."""
        engine = cs.Engine(
            solver=cs.NativeSolver(), executor=cs.LocalExecutor(), bus=cs.MessageBus()
        )
        engine.register(connector_resource(self.swarm.connector))
        self._engines.append(engine)
        return engine.run(firefly(agent, self.swarm.config))

    def engines(self) -> list[cs.Engine]:
        """One engine per agent."""
        return self._engines


@register
class SharedMode(Mode):
    """The refactor: ONE Engine for all agents; the connector resource is registered once."""

    name = "shared"
    description = "one cs.Engine shared by every agent (the refactor)"
    bytes_per_agent = 13 * KIB  # measured 10,337 and 10,126 bytes (10,000 and 40,000 agents)
    label = "the shared engine"
    colour = "#1f77b4"  # blue
    ratios_to = {
        "bare": "what the engine itself costs over its workflow run bare",
        "raw": "what is left to the floor",
    }

    def __init__(self, swarm: Swarm) -> None:
        super().__init__(swarm)
        self._engine = cs.Engine()
        self._engine.register(connector_resource(swarm.connector))

    def agent(self, agent: Agent) -> Coroutine[Any, Any, Any]:
        """The agent's workflow on the shared engine."""
        return self._engine.run(firefly(agent, self.swarm.config))

    def engines(self) -> list[cs.Engine]:
        """The one shared engine."""
        return [self._engine]


@register
class BareMode(Mode):
    """The workflow without an engine: the same LazyResults, called by the least any engine
    must do. Between shared and raw, it tells the engine's own cost from the workflow's."""

    name = "bare"
    description = "the workflow's task calls made directly, no engine (the least an engine does)"
    bytes_per_agent = 12 * KIB  # measured 9,658 and 9,601 bytes (10,000 and 40,000 agents)
    label = "the workflow run bare"
    colour = "#ff7f0e"  # orange
    gated = False  # it runs no engine code of its own: nothing for the gate to guard

    def __init__(self, swarm: Swarm) -> None:
        super().__init__(swarm)
        self._resource = connector_resource(swarm.connector)
        self._generations = 0

    def agent(self, agent: Agent) -> Coroutine[Any, Any, Any]:
        """The agent's workflow, run by `_bare_life`."""
        return self._bare_life(firefly(agent, self.swarm.config))

    def engines(self) -> list[cs.Engine]:
        """None."""
        return []

    def generations(self) -> int:
        """Workflow generations, counted as an engine counts them (the first decision too)."""
        return self._generations

    async def _bare_life(self, first: cs.LazyResult) -> None:
        """Per life, set up the run-scoped connector resource; per generation, call the
        action with the connector injected, then `decide`, which returns the next one.
        While the action waits, only decide's arguments are kept, not the LazyResults."""
        resource = self._resource.func()
        connector = next(resource)
        target: cs.LazyResult | None = first
        try:
            while isinstance(target, cs.LazyResult):
                # decide(agent, config, action, outcome): the outcome is the action's call.
                agent, config, action, outcome = target.args
                decide = target.task.func
                target = None
                if isinstance(outcome, cs.LazyResult):  # none before the first decision
                    call = outcome.task
                    outcome = call.func(*outcome.args, **dict.fromkeys(call.injected, connector))
                    if call.is_async:
                        outcome = await outcome
                target = decide(agent, config, action, outcome)
                self._generations += 1
        finally:
            resource.close()


@register
class RawMode(Mode):
    """The floor: the same physics as a plain asyncio coroutine per agent, no engine."""

    name = "raw"
    description = "plain asyncio coroutines, no engine (the floor)"
    bytes_per_agent = 11 * KIB  # measured 8,943 and 8,986 bytes (10,000 and 40,000 agents)
    label = "raw asyncio"
    colour = "#2ca02c"  # green
    floor = True

    def agent(self, agent: Agent) -> Coroutine[Any, Any, Any]:
        """The agent's life as a plain loop over plan / act / advance."""
        return _raw_life(agent, self.swarm)

    def engines(self) -> list[cs.Engine]:
        """None."""
        return []

    def generations(self) -> int:
        """Loop steps, the raw equivalent of a generation."""
        return self.swarm.tally.steps


async def _raw_life(agent: Agent, swarm: Swarm) -> None:
    loop = asyncio.get_running_loop()
    config, connector = swarm.config, swarm.connector
    while True:
        action, seconds = physics.plan(agent, config, loop.time())
        outcome: Any = None
        if action is Action.WAIT:
            await asyncio.sleep(seconds)
        elif action is Action.LISTEN:
            outcome = await physics.listen(connector, agent.inbox, seconds)
        else:
            outcome = await physics.flash(connector, agent)
        physics.advance(agent, config, action, outcome, loop.time())


def set_up_agents(swarm: Swarm, mode_name: str) -> list[Coroutine[Any, Any, Any]]:
    """Build the mode (its engine or engines) and every agent's not-yet-started life."""
    mode = get_mode(mode_name)(swarm)
    return [mode.agent(agent) for agent in swarm.create_agents()]


def get_mode(name: str) -> type[Mode]:
    """The mode called `name`, or a BenchError listing the valid ones."""
    try:
        return MODES[name]
    except KeyError:
        raise BenchError(f"unknown mode {name!r}; choose one of: {', '.join(MODES)}") from None
