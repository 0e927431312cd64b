"""Engine: runs workflows. One Engine may serve many concurrent `run()` calls.

Everything that belongs to one execution (state backend, FlowManager, resource scope,
params) lives in a `_Run` object local to that `run()` call, never on the Engine. What the
runs of a thread share (`_ThreadShared`) holds nothing of a run across an await.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from cascade.connectors.base import Connector, Subscription
from cascade.errors import DefinitionError, TargetSkippedError
from cascade.graph.build import build_graph
from cascade.graph.model import Graph, Node
from cascade.runtime import events as ev
from cascade.runtime.bus import MessageBus
from cascade.runtime.chain import arguments, chain_of
from cascade.runtime.constraints import CONSTRAINT_TOPICS, ConstraintManager, Permit
from cascade.runtime.executor import LocalExecutor
from cascade.runtime.flow import FlowManager
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


class _Run(ResourceScope):
    """The per-execution state of one `run()` call. A run is its own run-scoped resource
    scope: one object per run where there were two, for a swarm of runs that wait."""

    __slots__ = ("_factory", "_held", "_number", "_state", "generation", "params", "started")

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
        self.params = params
        self.generation = 0
        self.started = asyncio.get_running_loop().time()
        self._factory = factory
        self._state = None if lazy_state else factory(self.run_id)
        self._held: list[Any] | None = None

    def held(self) -> list[Any]:
        """The list that holds the target call's arguments while earlier calls wait: one
        per run, refilled every generation. A list per generation would live as long as
        the wait, and every young collection of the garbage collector would walk it. After
        the call it keeps that call's arguments but the previous call's result."""
        if self._held is None:
            self._held = []
        return self._held

    @property
    def run_id(self) -> str:
        """The run's id in events and for its state backend ("run-7"), made when asked for."""
        return f"run-{self._number}"

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
    ) -> None:
        self.solver = solver or NativeSolver()
        self.executor = executor or LocalExecutor()
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
        self._connection = _ConnectionLease(connector, self.constraint_manager)
        self._resources: dict[str, ResourceDefinition] = {}
        self._counters = _Counters()

    def register(self, definition: ResourceDefinition) -> None:
        """Make a `@cs.resource` available to every run of this engine (replaces by name)."""
        if not isinstance(definition, ResourceDefinition):
            raise DefinitionError(f"register() needs a @cs.resource definition, got {definition!r}")
        self._resources[definition.name] = definition

    def statistics(self) -> EngineStatistics:
        """A snapshot of the engine's lifetime counters."""
        return EngineStatistics(**asdict(self._counters))

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
        """One run's whole life in one coroutine: its counters and events, the connection
        lease and the resource scope, and inside them the tail-call loop.

        The Python stack stays flat however deep the recursion goes. A generation that is a
        plain chain of calls whose resources are set up runs link by link, right here (see
        cascade.runtime.chain): no graph, no plan, no flow. Anything else takes the general
        path (`_run_graph`); both give the same results, events, counters and errors. A run
        waits inside this frame all its life, so nothing per run or per generation gets a
        coroutine of its own: each would be one more object for the garbage collector.
        """
        # Few locals on purpose: the frame is made with the coroutine, when run() is
        # called (a swarm calls it for every agent while setting up), and lives as long.
        run = self._start(target, params)
        try:
            if self._connection.needed:
                await self._connection.acquire()
            try:
                # What every run on this thread shares (a loop, and so a run, stays on its
                # thread): a list refilled by every chain generation, valid only until this
                # run first waits, and the loop-turn counter. Nothing per run or per engine:
                # one object less per agent for the garbage collector.
                scratch, turns = _here.scratch, _here.turns
                while True:
                    turn = turns.mark()
                    links = self._chain(target, scratch)
                    if links is not None and not _set_up(links, run):
                        links = links.copy()  # setting up may wait: keep a list of its own
                        scratch.clear()
                        if not await self._set_up_chain(links, run):
                            links = None  # a task-scoped resource: the general path's job
                    if links is None:  # not a chain
                        result = await self._run_graph(target, run)
                    else:
                        if len(links) > 6 and links is scratch:
                            links = links.copy()  # read after the first wait
                            scratch.clear()
                        # The target's call is held apart, its arguments ready but for the
                        # previous call's result: while an earlier call waits, the run holds
                        # none of the generation's LazyResults, and they can be freed.
                        last = len(links) - 3
                        final_task, final_id, final_slot = target.task, target._id, links[-2]
                        final_args: Any  # a list or a dict when the result goes in
                        final_kwargs: Any
                        final_args, final_kwargs = arguments(
                            target,
                            final_slot,
                            links[-1],
                            None,
                            run,
                            run.held() if type(final_slot) is int else None,
                        )
                        target = result = None
                        for index in range(0, len(links), 3):
                            if index < last:  # an earlier call
                                lazy = links[index]
                                task, node_id = lazy.task, lazy._id
                                args, kwargs = arguments(
                                    lazy, links[index + 1], links[index + 2], result, run
                                )
                                del lazy
                            if index == 0 and links is scratch:
                                links.clear()  # one or two calls: read whole, before any wait
                            if index == last:
                                # arguments() made them the run's list, or a dict.
                                if type(final_slot) is int:
                                    final_args[final_slot] = result
                                elif final_slot is not None:
                                    final_kwargs[final_slot] = result
                                task, node_id = final_task, final_id
                                args, kwargs = final_args, final_kwargs
                            # Per call, as the general path: a pause may come mid-chain.
                            permit = (
                                await self._admit(task.name, node_id, {}, run)
                                if self.constraint_manager.active
                                else ()
                            )
                            try:
                                if not (
                                    type(self.executor) is LocalExecutor
                                    and (self.bus.idle or not self._observed())
                                ):
                                    # The general path's attempt: events, another executor,
                                    # fresh kwargs.
                                    call = self._execute_once(
                                        task, node_id, run, tuple(args), dict(kwargs), 1
                                    )
                                    del args, kwargs  # not kept while the call waits
                                    result = await call
                                elif task.is_async:  # nobody listens: just call it
                                    call = task.func(*args, **kwargs)
                                    del args, kwargs
                                    result = await call
                                    self._counters.tasks_executed += 1
                                else:
                                    result = task.func(*args, **kwargs)
                                    self._counters.tasks_executed += 1
                            finally:
                                if permit:
                                    self.constraint_manager.release(permit)
                            if not self._private_state:
                                run.state.put_result(node_id, result)
                        if type(final_slot) is int:
                            # The run's list keeps the rest until the next generation
                            # overwrites it: emptying it would free and regrow its array.
                            final_args[final_slot] = None
                        del final_args, final_kwargs
                    run.generation += 1
                    self._counters.generations += 1
                    if not isinstance(result, LazyResult):
                        break
                    target = result
                    run.clear_state()
                    # A generation that never waited is followed by a yield, so that
                    # nobody is starved. The first too: a swarm starts its runs in one
                    # loop pass, and their first two generations in one pass would be the
                    # longest the loop ever stalls (lag max 143-188 ms against 100-133 ms
                    # with the yield, 2,500 agents).
                    if not turns.moved(turn):
                        await asyncio.sleep(0)
            except BaseException as exc:
                await self._leave(run, exc)
                raise
            await self._leave(run, None)
        except asyncio.CancelledError:
            self._counters.runs_cancelled += 1
            self._publish_run_finished(run, "cancelled", None)
            raise
        except BaseException as exc:
            self._counters.runs_failed += 1
            self._publish_run_finished(run, "failed", repr(exc))
            raise
        finally:
            self._counters.runs_active -= 1
        self._counters.runs_succeeded += 1
        self._publish_run_finished(run, "succeeded", None)
        return result

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
        """Whether anybody listens to task executions (then events are built); asked only
        when the bus is not idle (`bus.idle`, one attribute, answers for most runs)."""
        bus = self.bus
        return bus.wants(ev.TaskExecutionStarted) or bus.wants(ev.TaskExecutionFinished)

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
        return run

    def _publish_run_finished(self, run: _Run, status: str, error: str | None) -> None:
        if not self.bus.idle and self.bus.wants(ev.RunFinished):
            duration = asyncio.get_running_loop().time() - run.started
            self.bus.publish(ev.RunFinished(run.run_id, status, duration, run.generation, error))

    def _chain(self, target: LazyResult, into: list[Any]) -> list[Any] | None:
        """The generation's calls as a chain in `into` (see chain_of), or None for the
        general path. Called exactly once per generation, whatever path it then takes
        (`bench gate --inject-slowdown` wraps it)."""
        return chain_of(target, into) if type(self.solver) is NativeSolver else None

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
    async def _set_up_chain(links: list[Any], run: _Run) -> bool:
        """Check and set up a chain's resources as `_prepare` would; False when one is
        task-scoped (set up per task execution: the general path's job)."""
        needed = _needed(links)
        run.check(needed)
        for name in needed:
            if run.is_task_scoped(name):
                return False  # set up per task execution: the general path's job
        for name in needed:
            if not run.ready(name):
                await run.get(name)
        return True

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
        bus = self.bus
        observed = bus.wants(ev.TaskExecutionStarted) or bus.wants(ev.TaskExecutionFinished)
        started = asyncio.get_running_loop().time() if observed else 0.0
        if observed:
            bus.publish(ev.TaskExecutionStarted(run.run_id, task.name, node_id, attempt))
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
    """What the runs of every engine on one thread share: see `Engine._run`."""

    def __init__(self) -> None:
        self.scratch: list[Any] = []
        self.turns = LoopTurns()


_here = _ThreadShared()


def _set_up(links: list[Any], run: _Run) -> bool:
    """Whether every resource the chain's calls need is set up, those missing being set up
    right here when none of them needs awaiting. False leaves it to `_set_up_chain` (which
    also raises for a resource nobody registered)."""
    missing = None
    for index in range(2, len(links), 3):
        for _, name in links[index]:
            if not run.ready(name):
                if missing is not None and name != missing:
                    return _set_up_now(list(_needed(links)), run)
                missing = name
    return missing is None or _set_up_now((missing,), run)


def _set_up_now(names: Iterable[str], run: _Run) -> bool:
    # All or nothing, in the order given (_needed's): a check that fails finds none set up.
    for name in names:
        if not (run.ready(name) or run.can_set_up_now(name)):
            return False
    for name in names:
        if not run.ready(name):
            run.set_up_now(name)
    return True


def _needed(links: list[Any]) -> dict[str, list[str]]:
    """Resource name -> names of the chain's tasks that need it, in the order the general
    path sets them up (graph.required_resources(): target first, names sorted per call)."""
    needed: dict[str, list[str]] = {}
    for index in range(len(links) - 3, -1, -3):
        resources = links[index + 2]
        if resources:
            for name in sorted([name for _, name in resources]):
                needed.setdefault(name, []).append(links[index].task.name)
    return needed


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


class _ConnectionLease:
    """Connects the engine's own connector while at least one run is active.

    Reference-counted so that one run finishing never disconnects the others; it also
    mirrors retained constraint messages into the ConstraintManager while connected.
    """

    __slots__ = ("_connector", "_constraints", "_lock", "_loop", "_subscription", "_users")

    def __init__(self, connector: Connector | None, constraints: ConstraintManager) -> None:
        self._connector = connector
        self._constraints = constraints
        self._users = 0
        self._subscription: Subscription | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _lock_here(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            # An asyncio.Lock belongs to one loop; a later cs.run() brings a new loop.
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    @property
    def needed(self) -> bool:
        """False without a connector: then a run need not acquire or release anything."""
        return self._connector is not None

    async def acquire(self) -> None:
        """One more run uses the connection: connect it if it is the first."""
        if self._connector is None:
            return
        async with self._lock_here():
            if self._users == 0:
                await self._connector.connect()
                self._subscription = await self._connector.subscribe(
                    CONSTRAINT_TOPICS, self._on_constraint
                )
                # Let the connector deliver retained constraints before any task is admitted.
                await asyncio.sleep(0)
            self._users += 1

    async def release(self) -> None:
        """One run less uses the connection: disconnect it if it was the last."""
        if self._connector is None:
            return
        async with self._lock_here():
            self._users -= 1
            if self._users == 0:
                subscription, self._subscription = self._subscription, None
                if subscription is not None:
                    await subscription.unsubscribe()
                await self._connector.disconnect()
                # Unheard while disconnected, a clear would leave them stale; replay restores them.
                self._constraints.forget_messages()

    async def _on_constraint(self, topic: str, payload: Any) -> None:
        self._constraints.apply_message(topic, payload)
