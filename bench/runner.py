"""One firefly run: compose the workload, a mode and the probes, and measure.

The order is fixed so every mode is measured the same way: baseline checkpoint, agent setup
(the setup cost), after-setup checkpoint, then the agents, the convergence monitor and the
probes run together for `duration` seconds of the loop's clock (or until a stop is asked
for), then the end checkpoint, and only then are the agents stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Protocol

import cascade as cs
from bench.environment import collect_meta
from bench.loops import loop_factory
from bench.probes.base import Probe, ProbeSet
from bench.probes.cpu import CpuProbe
from bench.probes.frame import FrameProbe
from bench.probes.loop_lag import LoopLagProbe
from bench.probes.memory import MemoryProbe
from bench.probes.objects import ObjectsProbe
from bench.probes.per_unit import PerUnitProbe
from bench.schema import build_document
from bench.workload import ConvergenceMonitor, FireflyConfig, Mode, Swarm, Tally, get_mode

_log = logging.getLogger("bench.runner")

TRACKED_TYPES = (
    "Engine",
    "MessageBus",
    "ResourceManager",
    "ConstraintManager",
    "FlowManager",
    "LazyResult",
    "Node",
    "_asyncio.Task",
    "_asyncio.Future",
)
"""Object types always counted, whether or not they are among the most common."""

_SETUP_BATCH = 500  # agents created between yields to the loop, as the original did
_MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything that selects what one run measures."""

    mode: str
    config: FireflyConfig
    clock: str = "real"
    loop: str = "asyncio"
    lag_interval: float = 0.010
    fps: float = 60.0
    trace_python: bool = False
    objects_interval: float | None = None
    """Also count gc-tracked objects every this many seconds (a soak's trend; costs lag)."""
    sink: BinaryIO | None = field(default=None, compare=False)
    """Where frames are rendered; None renders the same bytes into a null sink (headless)."""
    live_status: bool = False
    """Append a status line (mode, agents, R, FPS, lag p99) to every rendered frame."""
    inject_slowdown: float | None = None
    """Slow every engine of the run by this fraction of CPU per generation (the gate's
    proof that it catches a slowdown; needs an engine with instruments)."""

    def as_config(self) -> dict[str, Any]:
        """The run's `config` block: the workload's constants plus the harness settings."""
        return {
            "mode": self.mode,
            **self.config.as_dict(),
            "lag_interval": self.lag_interval,
            "fps": self.fps,
            "trace_python": self.trace_python,
            "objects_interval": self.objects_interval,
            "inject_slowdown": self.inject_slowdown,
        }


class Reporter(Protocol):
    """Told about progress; the CLI draws a progress bar, tests pass nothing."""

    def setup(self, done: int, total: int) -> None:
        """`done` of `total` agents have been set up."""

    def running(self, elapsed: float, duration: float, flashes: int) -> None:
        """The run is `elapsed` seconds into `duration`."""


class _Silent:
    def setup(self, done: int, total: int) -> None:
        pass

    def running(self, elapsed: float, duration: float, flashes: int) -> None:
        pass


def execute(
    spec: RunSpec, reporter: Reporter | None = None, argv: list[str] | None = None
) -> dict[str, Any]:
    """Run `spec` on a new event loop of its loop/clock and return the result document.

    SIGINT and SIGTERM stop the run early; the document then says `"interrupted": true`.
    """
    meta = collect_meta(loop=spec.loop, clock=spec.clock, argv=argv)
    with (
        _slowed(spec.inject_slowdown),
        asyncio.Runner(loop_factory=loop_factory(spec.loop, spec.clock)) as runner,
    ):
        outcome = runner.run(_FireflyRun(spec, reporter or _Silent()).run())
    return build_document(meta=meta, config=spec.as_config(), **outcome)


@contextlib.contextmanager
def _slowed(fraction: float | None) -> Iterator[None]:
    """With a fraction, the gate's slowdown registered for every engine of the process
    until the run ends (before any set-up); without, nothing: the engine, maybe the
    gate's base, needs no instruments."""
    if fraction is None:
        yield
        return
    from bench.slowdown import Slowdown  # only an engine with instruments has it

    slowdown = Slowdown(fraction)
    cs.add_instrument(slowdown)
    try:
        yield
    finally:
        with contextlib.suppress(KeyError):  # gone already if it ever raised
            cs.remove_instrument(slowdown)


class _FireflyRun:
    """The state of one run while it is measured."""

    def __init__(self, spec: RunSpec, reporter: Reporter) -> None:
        self.spec = spec
        self.reporter = reporter
        self.config = spec.config
        self.stop_requested = asyncio.Event()
        self.error_samples: list[str] = []
        self.timings: dict[str, float] = {}
        self.agents_set_up = 0

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self._install_signal_handlers(loop)
        try:
            return await self._measure(loop)
        finally:
            self._remove_signal_handlers(loop)

    async def _measure(self, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
        status = self._status_line if self.spec.live_status else None
        frame = FrameProbe(self.config.side, sink=self.spec.sink, fps=self.spec.fps, status=status)
        self.frame, self.lag = frame, LoopLagProbe(self.spec.lag_interval)
        probes = ProbeSet(self._probes())
        probes.checkpoint("baseline")
        swarm = Swarm(self.config)
        await swarm.connector.connect()
        mode = get_mode(self.spec.mode)(swarm)
        lives = await self._set_up(loop, swarm, mode)
        self.agents_set_up = len(lives)
        for per_agent in self.per_agent_probes:  # fewer than asked when set-up was stopped
            per_agent.units = len(lives)
        probes.checkpoint("after_setup")
        # Only a running frame loop drains its marks: on the virtual clock, where it does not
        # run, every flash of the run would pile up in its queue.
        on_flash = frame.mark if frame in probes.active else None
        monitor = ConvergenceMonitor(self.config.agents, self.config.period, on_flash=on_flash)
        self.monitor = monitor
        if not self.stop_requested.is_set():
            await self._run_agents(loop, swarm, lives, monitor, probes)
        else:
            await probes.stop()
            probes.checkpoint("end")
            for life in lives:
                life.close()
        await swarm.broker.aclose()
        return self._outcome(swarm, mode, monitor, probes)

    def _probes(self) -> list[Probe]:
        agents = self.config.agents
        self.per_agent_probes: list[PerUnitProbe] = [
            MemoryProbe(agents, trace_python=self.spec.trace_python),
            ObjectsProbe(agents, track=TRACKED_TYPES, sample_interval=self.spec.objects_interval),
        ]
        probes: list[Probe] = [CpuProbe(), *self.per_agent_probes]
        if self.spec.clock == "real":  # lag and frame timings mean nothing on a virtual clock
            probes += [self.lag, self.frame]
        return probes

    async def _set_up(
        self, loop: asyncio.AbstractEventLoop, swarm: Swarm, mode: Mode
    ) -> list[Coroutine[Any, Any, Any]]:
        started, cpu = loop.time(), time.process_time()
        lives = []
        for agent in swarm.create_agents():
            lives.append(mode.agent(agent))
            if len(lives) % _SETUP_BATCH == 0:
                self.reporter.setup(len(lives), self.config.agents)
                await asyncio.sleep(0)
                if self.stop_requested.is_set():
                    break
        self.reporter.setup(len(lives), self.config.agents)
        self.timings["setup_s"] = loop.time() - started
        self.timings["setup_cpu_s"] = time.process_time() - cpu
        return lives

    async def _run_agents(
        self,
        loop: asyncio.AbstractEventLoop,
        swarm: Swarm,
        lives: list[Coroutine[Any, Any, Any]],
        monitor: ConvergenceMonitor,
        probes: ProbeSet,
    ) -> None:
        await monitor.start(swarm.connector)
        probes.start()
        started = loop.time()
        for agent in swarm.agents:
            agent.start_clock(started)
        tasks = [loop.create_task(self._supervised(life, swarm.tally)) for life in lives]
        await self._wait_for_end(loop, started, swarm.tally)
        self.timings["run_s"] = loop.time() - started
        await probes.stop()
        probes.checkpoint("end")  # before the agents stop: the state at the end of the run
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await monitor.stop()

    async def _wait_for_end(
        self, loop: asyncio.AbstractEventLoop, started: float, tally: Tally
    ) -> None:
        duration = self.config.duration
        while not self.stop_requested.is_set():
            remaining = started + duration - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), min(1.0, remaining))
            self.reporter.running(min(loop.time() - started, duration), duration, tally.flashes)

    def _status_line(self) -> str:
        r = self.monitor.latest_order_parameter()
        p99 = self.lag.last_second_p99_ms()
        return (
            f"{self.spec.mode} · {self.config.agents} agents · "
            f"R {'-' if r is None else f'{r:.2f}'} · {self.frame.recent_fps():.0f} fps · "
            f"loop lag p99 {'-' if p99 is None else f'{p99:.1f} ms'} · q or Ctrl-C quits"
        )

    async def _supervised(self, life: Coroutine[Any, Any, Any], tally: Tally) -> None:
        """One agent's life; its failure is counted and kept, never allowed to stop the others."""
        try:
            await life
        except Exception as error:
            tally.agent_errors += 1
            if len(self.error_samples) < _MAX_ERROR_SAMPLES:
                self.error_samples.append(f"{type(error).__name__}: {error}")
                _log.error("an agent failed; the others go on", exc_info=error)

    def _outcome(
        self, swarm: Swarm, mode: Mode, monitor: ConvergenceMonitor, probes: ProbeSet
    ) -> dict[str, Any]:
        results = probes.results()
        metrics = {name: result.metrics for name, result in results.items()}
        metrics["work"] = self._work(swarm, mode, metrics.get("cpu", {}))
        metrics["convergence"] = monitor.result()
        metrics["engine"] = _engine_totals(mode.engines())
        series: dict[str, Any] = {"convergence": monitor.series()}
        for result in results.values():
            series.update(result.series)
        errors = {"agents": self.error_samples, "probes": dict(probes.errors)}
        return {
            "metrics": metrics,
            "series": series,
            "interrupted": self.stop_requested.is_set(),
            "errors": errors,
        }

    def _work(self, swarm: Swarm, mode: Mode, cpu: dict[str, Any]) -> dict[str, Any]:
        tally, broker = swarm.tally, swarm.broker.statistics()
        run_s = self.timings.get("run_s")
        cpu_s = cpu.get("cpu_s")
        return {
            "agents": self.agents_set_up,  # config.agents is what was asked for
            "generations": mode.generations(),
            "steps": tally.steps,
            "flashes": tally.flashes,
            "flashes_per_s": _ratio(tally.flashes, run_s),
            "messages": tally.messages,
            "messages_delivered": broker.delivered,
            "inbox_misses": tally.inbox_misses,
            "inbox_misses_per_flash": _ratio(tally.inbox_misses, tally.flashes),
            "signals": tally.signals,
            "agent_errors": tally.agent_errors,
            "cpu_us_per_generation": _ratio(cpu_s * 1e6 if cpu_s else None, tally.steps),
            "setup_s": self.timings.get("setup_s"),
            "setup_cpu_s": self.timings.get("setup_cpu_s"),
            "run_s": run_s,
        }

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Not possible off the main thread or on some platforms: the run then simply
            # cannot be stopped early by a signal.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._request_stop, signum)

    def _remove_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    def _request_stop(self, signum: int) -> None:
        _log.warning(
            "%s received: stopping the run and keeping what was measured",
            signal.Signals(signum).name,
        )
        self.stop_requested.set()


def _engine_totals(engines: list[cs.Engine]) -> dict[str, Any]:
    totals: dict[str, int] = {"engines": len(engines)}
    for engine in engines:
        for key, value in asdict(engine.statistics()).items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
