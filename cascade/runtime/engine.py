"""Engine: runs workflows. One Engine may serve many concurrent `run()` calls.

Everything that belongs to one execution (state backend, FlowManager, resource scope,
params) lives in a `_Run` object local to that `run()` call, never on the Engine. What the
runs of a thread share (`_ThreadShared`) holds nothing of a run across an await.

A run's whole life is one coroutine, `Engine._run`, and the Python stack stays flat however
deep its tail calls go. A generation that is a plain chain of calls whose resources are set
up runs call by call, right there (see cascade.runtime.chain): no graph, no plan, no flow.
Anything else takes the general path (`_run_graph`); both give the same results, events,
counters and errors. A run waits inside that one frame all its life, so nothing per run or
per generation gets a coroutine of its own: each would be one more object for the garbage
collector, for every waiting run. Instruments (cascade.runtime.instruments) hear of runs
and generations; without any, a hook point costs one truth test.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from cascade.connectors.base import Connector
from cascade.errors import DefinitionError, TargetSkippedError
from cascade.graph.build import build_graph
from cascade.graph.model import Graph, Node
from cascade.runtime import events as ev
from cascade.runtime.bus import MessageBus
from cascade.runtime.chain import (
    ChainRun,
    chain_of,
    resources_ready,
    set_up_resources,
    take_call,
)
from cascade.runtime.connection import ConnectionLease
from cascade.runtime.constraints import ConstraintManager, Permit
from cascade.runtime.executor import LocalExecutor
from cascade.runtime.flow import FlowManager
from cascade.runtime.instruments import PROCESS, Instrument, Instruments
from cascade.runtime.loop_turns import LoopTurns
from cascade.runtime.resolvers import ArgumentResolver, ConstraintResolver
from cascade.runtime.resource_manager import ResourceManager
from cascade.runtime.resource_scope import ResourceScope
from cascade.runtime.solver import NativeSolver
from cascade.runtime.state import InMemoryStateBackend, StateBackend
from cascade.spec.lazy import LazyResult
from cascade.spec.param import Param
from cascade.spec.resource import ResourceDefinition
from cascade.spec.task import Task

_run_numbers = itertools.count(1)
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
"""The params of every run given none: one read-only mapping, not an empty dict per run."""


@dataclass(frozen=True, slots=True)
class EngineStatistics:
    """Counters over the engine's lifetime, for probes (a snapshot; cheap to take)."""

    runs_started: int
    runs_active: int
    runs_succeeded: int
    runs_failed: int
    runs_cancelled: int
    generations: int
    tasks_executed: int
    tasks_skipped: int
    tasks_retried: int


@dataclass(slots=True)
class _Counters:
    """The mutable twin of EngineStatistics (same fields, same order)."""

    runs_started: int = 0
    runs_active: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    runs_cancelled: int = 0
    generations: int = 0
    tasks_executed: int = 0
    tasks_skipped: int = 0
    tasks_retried: int = 0


class _Run(ChainRun):
    """The per-execution state of one `run()` call. A run is its own run-scoped resource
    scope and keeps its chain generations' target calls (see ChainRun): one object per
    run where there would be three, for a swarm of runs that wait."""

    __slots__ = ("_factory", "_id", "_number", "_state", "generation", "params", "started")

    def __init__(
        self,
        definitions: Mapping[str, ResourceDefinition],
        params: Mapping[str, Any],
        factory: Callable[[str], StateBackend],
        *,
        lazy_state: bool,
    ) -> None:
        super().__init__(definitions)
        self._number = next(_run_numbers)
        self._id: str | None = None
        self.params = params
        self.generation = 0
        self.started = asyncio.get_running_loop().time()
        self._factory = factory
        self._state = None if lazy_state else factory(self.run_id)

    @property
    def run_id(self) -> str:
        """The run's id in events and for its state backend ("run-7"), made when first asked
        for (instruments ask every generation)."""
        if self._id is None:
            self._id = f"run-{self._number}"
        return self._id

    @property
    def state(self) -> StateBackend:
        """The run's state backend, made on first use when it may be lazy."""
        if self._state is None:
            self._state = self._factory(self.run_id)
        return self._state

    def clear_state(self) -> None:
        """Forget the finished generation's state (if the run has any yet)."""
        if self._state is not None:
            self._state.clear()


class Engine:
    """Builds, solves and executes workflow graphs, following tail calls until a plain value."""

    def __init__(
        self,
        solver: NativeSolver | None = None,
        executor: LocalExecutor | None = None,
        bus: MessageBus | None = None,
        state_backend_factory: Callable[[str], StateBackend] | None = None,
        system_resources: Mapping[str, float] | None = None,
        connector: Connector | None = None,
        instruments: Iterable[Instrument] = (),
    ) -> None:
        self._solver = solver or NativeSolver()
        self._executor = executor or LocalExecutor()
        # Read once, here and by the setters: the chain path asks at every call, and a
        # class attribute read through an instance is the slowest lookup there is.
        self._solver_bypassable = self._solver.bypassable
        self._executor_bypassable = self._executor.bypassable
        self.bus = bus or MessageBus()
        self.state_backend_factory = state_backend_factory or InMemoryStateBackend
        # The default backend is private to its run, and a chain's results go straight to
        # the next call, so a run makes it only if the general path needs it, and a chain
        # stores no results in it. A backend of the caller's sees every result, as always.
        self._private_state = state_backend_factory is None
        self.resource_manager = ResourceManager(system_resources)
        self.constraint_manager = ConstraintManager()
        self.arg_resolver = ArgumentResolver()
        self.constraint_resolver = ConstraintResolver()
        self.connector = connector
        self._connection = ConnectionLease(connector, self.constraint_manager)
        self._resources: dict[str, ResourceDefinition] = {}
        self._counters = _Counters()
        # The process-wide instruments themselves unless this engine has its own: no
        # object more per engine.
        self._instruments = Instruments(instruments, PROCESS) if instruments else PROCESS

    @property
    def solver(self) -> NativeSolver:
        """Orders a graph into stages; a plain chain skips it if it is `bypassable`."""
        return self._solver

    @solver.setter
    def solver(self, solver: NativeSolver) -> None:
        self._solver, self._solver_bypassable = solver, solver.bypassable

    @property
    def executor(self) -> LocalExecutor:
        """Makes task calls; a plain chain makes them itself if it is `bypassable`."""
        return self._executor

    @executor.setter
    def executor(self, executor: LocalExecutor) -> None:
        self._executor, self._executor_bypassable = executor, executor.bypassable

    def register(self, definition: ResourceDefinition) -> None:
        """Make a `@cs.resource` available to every run of this engine (replaces by name)."""
        if not isinstance(definition, ResourceDefinition):
            raise DefinitionError(f"register() needs a @cs.resource definition, got {definition!r}")
        self._resources[definition.name] = definition

    def statistics(self) -> EngineStatistics:
        """A snapshot of the engine's lifetime counters."""
        return EngineStatistics(**asdict(self._counters))

    def add_instrument(self, instrument: Instrument) -> None:
        """Call `instrument`'s hooks for this engine's runs (see `cascade.Instrument`)."""
        if self._instruments is PROCESS:
            self._instruments = Instruments((), PROCESS)
        self._instruments.add(instrument)

    def remove_instrument(self, instrument: Instrument) -> None:
        """Stop calling `instrument` for this engine's runs; KeyError when it is not
        registered on this engine (`cascade.remove_instrument` removes process-wide ones)."""
        if self._instruments is PROCESS:
            raise KeyError(f"{instrument!r} is not registered here")
        self._instruments.remove(instrument)

    def run(
        self, target: LazyResult, params: Mapping[str, Any] | None = None
    ) -> Coroutine[Any, Any, Any]:
        """Execute `target` (and each LazyResult it tail-calls); await it for the final value.

        A coroutine like any `async def` method's, except that bad input raises right here,
        before anything starts.
        """
        if not isinstance(target, LazyResult):
            raise DefinitionError(
                f"Engine.run() needs a LazyResult (the result of calling a task), "
                f"got {type(target).__name__} {target!r}"
            )
        if params is not None and not isinstance(params, Mapping):
            raise DefinitionError(f"Engine.run() params must be a mapping, got {params!r}")
        return self._run(target, params)

    async def _run(self, target: Any, params: Mapping[str, Any] | None) -> Any:
        """One run's whole life (see the module's docstring): counted in, the connection
        leased, one generation per turn of the loop until one gives a plain value, the
        resources torn down, counted out. Its frame lives as long: it keeps few locals."""
        run = self._start(target, params)
        try:
            if self._connection.needed:
                await self._connection.acquire()
            try:
                scratch, turns = _here.scratch, _here.turns
                while True:
                    turn = turns.mark()
                    if self._instruments:
                        self._instrument("before_generation", run, run.generation + 1, target)
                    links = chain_of(target, scratch) if self._solver_bypassable else None
                    if links is not None and not resources_ready(links, run):
                        links = _own(links, scratch)  # setting up may wait
                        if not await set_up_resources(links, run):
                            links = None  # a task-scoped resource: the general path's job
                    if links is None:
                        result = await self._run_graph(target, run)
                    else:  # a plain chain: one call after the other, the target's last
                        count = run.take_target(links)
                        if count > 2:
                            links = _own(links, scratch)  # read again after a call waits
                        target = result = None  # waiting calls keep no LazyResult alive
                        for _ in range(count):
                            direct = (  # no executor, admission or listener to go through
                                self._executor_bypassable
                                and not self.constraint_manager.active
                                and (self.bus.idle or not self._observed())
                            )
                            call, node_id, result = self._next_call(run, links, result, direct)
                            if call is not None:
                                result = await call
                            if direct:  # else the general path's attempt counted it
                                self._counters.tasks_executed += 1
                            if not self._private_state:
                                run.state.put_result(node_id, result)
                    run.generation += 1
                    self._counters.generations += 1
                    if self._instruments:
                        self._instrument("after_generation", run, run.generation, result)
                    if not isinstance(result, LazyResult):
                        break
                    target = result
                    run.clear_state()
                    if not turns.moved(turn):
                        await asyncio.sleep(0)  # it never waited: let the others run
            except BaseException as exc:
                await self._leave(run, exc)
                raise
            await self._leave(run, None)
        except BaseException as exc:
            self._finish(run, exc)  # failed, or cancelled
            raise
        finally:
            self._counters.runs_active -= 1
        self._finish(run, None)
        return result

    def _start(self, target: LazyResult, params: Mapping[str, Any] | None) -> _Run:
        """Count the run in, announce it, and give it its own state and resource scope."""
        counters = self._counters
        counters.runs_started += 1
        counters.runs_active += 1
        run = _Run(
            self._resources,
            dict(params) if params else _NO_PARAMS,
            self.state_backend_factory,
            lazy_state=self._private_state,
        )
        if not self.bus.idle and self.bus.wants(ev.RunStarted):
            self.bus.publish(ev.RunStarted(run.run_id, target.task.name, run.params))
        if self._instruments:
            self._instrument("run_started", run, target)
        return run

    def _finish(self, run: _Run, error: BaseException | None) -> None:
        """Count the run out (succeeded without `error`, else cancelled or failed) and say so."""
        counters = self._counters
        if error is None:
            status = "succeeded"
            counters.runs_succeeded += 1
        elif isinstance(error, asyncio.CancelledError):
            status = "cancelled"
            counters.runs_cancelled += 1
        else:
            status = "failed"
            counters.runs_failed += 1
        if not self.bus.idle and self.bus.wants(ev.RunFinished):
            duration = asyncio.get_running_loop().time() - run.started
            text = repr(error) if status == "failed" else None
            self.bus.publish(ev.RunFinished(run.run_id, status, duration, run.generation, text))
        if self._instruments:
            self._instrument("run_finished", run, status, error)

    def _instrument(self, hook: str, run: _Run, *args: Any) -> None:
        """Call `hook` of the instruments that have it, for `run` (asked only when there
        are any: `if self._instruments` is the one test a run pays without; a hook that
        none of them overrides costs one lookup more)."""
        if hook in self._instruments:
            self._instruments.call(hook, self, run.run_id, *args)

    async def _leave(self, run: _Run, exc: BaseException | None) -> None:
        """Tear the run's resources down and release the connection: what `async with
        self._connection, run:` would do (the run is its resource scope), without keeping
        two bound __aexit__ methods alive for the whole run."""
        try:
            await run.close(exc)
        finally:
            if self._connection.needed:
                await self._connection.release()

    def _observed(self) -> bool:
        """Whether anybody listens to task executions (then their events are built). The
        bus's `idle`, one attribute, answers for most engines."""
        bus = self.bus
        return not bus.idle and (
            bus.wants(ev.TaskExecutionStarted) or bus.wants(ev.TaskExecutionFinished)
        )

    def _next_call(
        self, run: _Run, links: list[Any], result: Any, direct: bool
    ) -> tuple[Awaitable[Any] | None, int, Any]:
        """Start the chain's next call: the first left in `links` (taken off), else the
        target's, with `result`, the previous call's, in its slot. `direct`: call the task
        itself, else through the general path's attempt (events, executor, admission).

        Returns what to await for the call's result, its node id, and the result when
        there is nothing to await (a plain function has returned it). Its arguments are
        not returned: the run's frame must not hold them while the call waits.
        """
        target = not links
        if target:  # only the target's call is left, ready but for `result`
            task, node_id, slot = run.target_task, run.target_id, run.target_slot
            args, kwargs = run.target_args, run.target_kwargs
            run.target_args = run.target_kwargs = None
            if type(slot) is int:
                args[slot] = result
            elif slot is not None:
                kwargs[slot] = result
        else:
            task, node_id, slot, args, kwargs = take_call(links, result, run)
        call = None
        if direct and not task.is_async:
            result = task.func(*args, **kwargs)
        elif direct:
            call = task.func(*args, **kwargs)
        elif self.constraint_manager.active:
            call = self._admitted_call(task, node_id, run, tuple(args), dict(kwargs))
        else:
            call = self._execute_once(task, node_id, run, tuple(args), dict(kwargs), 1)
        if target and type(slot) is int:
            args[slot] = None  # the run's list keeps the target's arguments, not the result
        return call, node_id, result

    async def _admitted_call(
        self, task: Task, node_id: int, run: _Run, args: tuple, kwargs: dict[str, Any]
    ) -> Any:
        """A chain's call while constraints are set: admitted first, call by call as on the
        general path (a pause may come mid-chain), then made as `_next_call` would make it."""
        permit = await self._admit(task.name, node_id, {}, run)
        try:
            if not self._executor_bypassable or self._observed():
                return await self._execute_once(task, node_id, run, args, kwargs, 1)
            result = task.func(*args, **kwargs)
            if task.is_async:
                result = await result
            self._counters.tasks_executed += 1
            return result
        finally:
            if permit:
                self.constraint_manager.release(permit)

    async def _run_graph(self, target: LazyResult, run: _Run) -> Any:
        """The general path: build the graph, solve it, execute it stage by stage."""
        graph = build_graph(target)
        plan = self.solver.resolve(graph)
        await self._prepare(graph, run)
        await self._execute(graph, plan, run)
        return self._target_result(graph, run.state)

    async def _prepare(self, graph: Graph, run: _Run) -> None:
        """Check params and resources, and set up run-scoped resources, before any task runs."""
        for node in graph.nodes:
            if node.kind == "param":
                self._bind_param(node, run)
        needed = graph.required_resources()
        run.check(needed)
        for name in needed:
            if not run.is_task_scoped(name):
                await run.get(name)

    @staticmethod
    def _bind_param(node: Node, run: _Run) -> None:
        param: Param = node.spec
        if param.name in run.params:
            run.state.put_result(node.id, run.params[param.name])
        elif not param.required:
            run.state.put_result(node.id, param.default)
        else:
            raise DefinitionError(
                f"Param {param.name!r} has no default and was not given: "
                f"pass params={{{param.name!r}: ...}} to run()"
            )

    @staticmethod
    def _target_result(graph: Graph, state: StateBackend) -> Any:
        target = graph.target
        reason = state.get_skip_reason(target.id)
        if reason is not None:
            raise TargetSkippedError(
                f"the run's target task {target.name!r} was skipped ({reason}), so there is "
                "no result"
            )
        return state.get_result(target.id)

    async def _execute(self, graph: Graph, plan: list[list[Node]], run: _Run) -> None:
        flow = FlowManager(graph)
        for stage in plan:
            ready = [node for node in stage if self._admit_or_skip(node, flow, run)]
            if len(ready) == 1:
                await self._run_node(ready[0], flow, run)
            elif ready:
                await _gather_or_cancel(self._run_node(node, flow, run) for node in ready)

    def _admit_or_skip(self, node: Node, flow: FlowManager, run: _Run) -> bool:
        reason = flow.should_skip(node, run.state)
        if reason is None:
            if node.kind != "param":
                return True
            # Params were bound in _prepare; a param selector must still pick its route.
            flow.register_result(node, run.state.get_result(node.id))
            return False
        flow.skip(node, reason, run.state)
        self._counters.tasks_skipped += 1
        if self.bus.wants(ev.TaskSkipped):
            self.bus.publish(ev.TaskSkipped(run.run_id, node.name, node.id, reason))
        return False

    async def _run_node(self, node: Node, flow: FlowManager, run: _Run) -> None:
        requirements = self.constraint_resolver.resolve(node, run.state)
        result = await self._invoke(node, run, requirements)
        run.state.put_result(node.id, result)
        flow.register_result(node, result)

    async def _admit(
        self, name: str, node_id: int, requirements: dict[str, float], run: _Run
    ) -> Permit:
        """Wait for constraints and system capacity; publish TaskBlocked when it must wait."""
        if not requirements and not self.constraint_manager.active:
            return ()

        def blocked(reason: str) -> None:
            self.bus.publish(ev.TaskBlocked(run.run_id, name, node_id, reason))

        permit = await self.constraint_manager.acquire(name, blocked)
        if requirements:
            try:
                await self.resource_manager.acquire(requirements, name, blocked)
            except BaseException:
                self.constraint_manager.release(permit)
                raise
            self.bus.publish(ev.ResourceAcquired(run.run_id, name, node_id, requirements))
        return permit

    def _discharge(
        self, node: Node, requirements: dict[str, float], permit: Permit, run: _Run
    ) -> None:
        if requirements:
            self.resource_manager.release(requirements)
            self.bus.publish(ev.ResourceReleased(run.run_id, node.name, node.id, requirements))
        if permit:
            self.constraint_manager.release(permit)

    async def _invoke(self, node: Node, run: _Run, requirements: dict[str, float]) -> Any:
        """Call the node's task (once, or once per element for a map) with its resources."""
        if not any(run.is_task_scoped(name) for name in node.resources):
            return await self._call(node, run, run, requirements)
        async with ResourceScope(self._resources, "task", run) as scope:
            return await self._call(node, run, scope, requirements)

    async def _call(
        self, node: Node, run: _Run, scope: ResourceScope, requirements: dict[str, float]
    ) -> Any:
        values = {name: await scope.get(name) for name in node.resources}
        if node.kind == "map":
            # Each element is a task execution of its own, admitted one by one.
            rows = self.arg_resolver.resolve_map(node, run.state, values)
            calls = (self._admitted(node, run, requirements, (), row) for row in rows)
            return await _gather_or_cancel(calls)
        args, kwargs = self.arg_resolver.resolve(node, run.state, values)
        return await self._admitted(node, run, requirements, args, kwargs)

    async def _admitted(
        self, node: Node, run: _Run, requirements: dict[str, float], args: tuple, kwargs: dict
    ) -> Any:
        """One task execution, admitted by constraints and system capacity first."""
        permit = await self._admit(node.name, node.id, requirements, run)
        try:
            return await self._attempt(node, run, args, kwargs)
        finally:
            self._discharge(node, requirements, permit, run)

    async def _attempt(self, node: Node, run: _Run, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Execute with the node's retry policy; the last failure propagates unchanged."""
        policy = node.spec.retry
        attempts, delay = (policy.max_attempts, policy.delay) if policy else (1, 0.0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._execute_once(node.spec.task, node.id, run, args, kwargs, attempt)
            except Exception as exc:
                if attempt == attempts:
                    raise
                self._counters.tasks_retried += 1
                self.bus.publish(
                    ev.TaskRetrying(run.run_id, node.name, node.id, attempt, delay, repr(exc))
                )
                await asyncio.sleep(delay)
                delay *= policy.backoff
        raise AssertionError("unreachable")  # pragma: no cover

    async def _execute_once(
        self, task: Task, node_id: int, run: _Run, args: tuple, kwargs: dict[str, Any], attempt: int
    ) -> Any:
        """One attempt of a task call; its events are built only when someone listens."""
        observed = self._observed()
        started = asyncio.get_running_loop().time() if observed else 0.0
        if observed:
            self.bus.publish(ev.TaskExecutionStarted(run.run_id, task.name, node_id, attempt))
        try:
            result = await self.executor.execute(task, args, kwargs)
        except Exception as exc:
            if observed:
                self._publish_task_finished(task.name, node_id, run, started, "failed", repr(exc))
            raise
        self._counters.tasks_executed += 1
        if observed:
            self._publish_task_finished(task.name, node_id, run, started, "succeeded", None)
        return result

    def _publish_task_finished(
        self, name: str, node_id: int, run: _Run, started: float, status: str, error: str | None
    ) -> None:
        duration = asyncio.get_running_loop().time() - started
        self.bus.publish(
            ev.TaskExecutionFinished(run.run_id, name, node_id, status, duration, error)
        )


class _ThreadShared(threading.local):
    """What the runs of every engine on one thread share (a loop, and so a run, stays on
    its thread): a list that every chain generation refills, valid only until its run
    first waits, and the loop-turn counter. Nothing per run or per engine: one object
    less per agent for the garbage collector."""

    def __init__(self) -> None:
        self.scratch: list[Any] = []
        self.turns = LoopTurns()


_here = _ThreadShared()


def _own(links: list[Any], scratch: list[Any]) -> list[Any]:
    """`links` in a list of its own when it is the thread's scratch list, for a chain read
    after a wait: other runs refill the scratch list meanwhile. The scratch list is
    emptied, so that it keeps none of this generation's LazyResults alive."""
    if links is not scratch:
        return links
    own = links.copy()
    scratch.clear()
    return own


async def _gather_or_cancel(coroutines: Iterable[Awaitable[Any]]) -> list[Any]:
    """Like gather, but when one fails (or we are cancelled) the others are cancelled too."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
