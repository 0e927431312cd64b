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
import os
import signal
import sys
import time
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Protocol

import bench
import cascade as cs
from bench.collector import collector
from bench.environment import collect_meta
from bench.loops import loop_factory
from bench.probes.base import Probe, ProbeSet
from bench.probes.broker import BrokerProbe
from bench.probes.cpu import CpuProbe
from bench.probes.delivery import DeliveryProbe
from bench.probes.frame import FrameProbe
from bench.probes.loop_lag import LoopLagProbe
from bench.probes.memory import MemoryProbe
from bench.probes.objects import ObjectsProbe
from bench.probes.per_unit import PerUnitProbe
from bench.probes.stalls import StallProbe
from bench.schema import build_document
from bench.source import short_path
from bench.transport import Transport, open_transport
from bench.workload import ConvergenceMonitor, FireflyConfig, Mode, Swarm, Tally, get_mode
from bench.workload.topology import zone_filter

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
    transport: str = "local"
    """What carries the messages: the in-memory broker, or `mqtt` through `broker`."""
    broker: str | None = None
    """The MQTT broker's URL (mqtt transport only)."""
    shard: tuple[int, int] | None = None
    """(index, count): this process carries one zone of `count` (`config.zones` = count);
    shard 0 also watches the whole swarm (convergence, the broker's rates)."""
    start_at: float | None = None
    """Wall-clock time (`time.time()`) at which the agents start, so that the shards of a
    swarm run by hand start together. None: start when set up."""
    sync_stdin: bool = False
    """After set-up, print "ready" and wait for "start <time.time()>" on stdin (the
    coordinator's handshake)."""
    delivery: bool = False
    """Stamp every message and record its delivery latency (`metrics.delivery`)."""
    stalls: bool = True
    """Find the loop's stalls and their causes (`metrics.stalls`; real clock only)."""
    stall_threshold: float = 0.020
    """A loop pass late by more than this many seconds is a stall."""
    gc: str = "default"
    """The garbage collector during the run: default, freeze or off-during-run."""

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
            "transport": self.transport,
            "broker": self.broker,
            "shard": None if self.shard is None else list(self.shard),
            "delivery": self.delivery,
            "stalls": self.stalls,
            "stall_threshold": self.stall_threshold,
            "gc": self.gc,
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
        spec = self.spec
        status = self._status_line if spec.live_status else None
        frame = FrameProbe(self.config.side, sink=spec.sink, fps=spec.fps, status=status)
        self.frame, self.lag = frame, LoopLagProbe(spec.lag_interval)
        transport = self._transport()
        # Shard 0 (or an unsharded run) also watches the whole swarm: R, flashes, the broker.
        watcher = spec.shard is None or spec.shard[0] == 0
        delivery = DeliveryProbe() if spec.delivery else None
        broker = BrokerProbe(transport.connector) if watcher and transport.name == "mqtt" else None
        probes = ProbeSet(self._probes(delivery, broker))
        probes.checkpoint("baseline")
        await transport.open()
        connector = transport.connector if delivery is None else delivery.wrap(transport.connector)
        swarm = Swarm(self.config, connector, zone=None if spec.shard is None else spec.shard[0])
        self.monitor: ConvergenceMonitor | None = None
        try:
            mode = get_mode(spec.mode)(swarm)
            lives = await self._set_up(loop, swarm, mode)
            self.agents_set_up = len(lives)
            for per_agent in self.per_agent_probes:  # fewer than asked when set-up was stopped
                per_agent.units = len(lives)
            probes.checkpoint("after_setup")
            if watcher:
                # Only a running frame loop drains its marks: on the virtual clock, where it
                # does not run, every flash of the run would pile up in its queue.
                on_flash = frame.mark if frame in probes.active else None
                self.monitor = ConvergenceMonitor(
                    self.config.agents,
                    self.config.period,
                    on_flash=on_flash,
                    arrival_time=spec.shard is not None,  # other shards' clocks are not ours
                )
            if not self.stop_requested.is_set():
                with collector(spec.gc):
                    await self._run_agents(loop, swarm, lives, probes, broker)
            else:
                await probes.stop()
                probes.checkpoint("end")
                for life in lives:
                    life.close()
        finally:
            await transport.close()
        return self._outcome(swarm, mode, probes, transport)

    def _transport(self) -> Transport:
        spec = self.spec
        zone = 0 if spec.shard is None else spec.shard[0]
        return open_transport(
            spec.transport,
            url=spec.broker,
            standing=(zone_filter(zone),),
            client_id=f"bench-{spec.mode}-{zone}-{os.getpid()}",
        )

    def _probes(self, delivery: DeliveryProbe | None, broker: BrokerProbe | None) -> list[Probe]:
        agents = self.config.agents
        self.per_agent_probes: list[PerUnitProbe] = [
            MemoryProbe(agents, trace_python=self.spec.trace_python),
            ObjectsProbe(agents, track=TRACKED_TYPES, sample_interval=self.spec.objects_interval),
        ]
        probes: list[Probe] = [CpuProbe(), *self.per_agent_probes]
        if self.spec.clock == "real":  # lag and frame timings mean nothing on a virtual clock
            probes.append(self.lag)
            if self.spec.stalls:
                probes.append(StallProbe(self.spec.stall_threshold, project=project_paths()))
            if self.spec.shard is None or self.spec.shard[0] == 0:  # one renderer per swarm
                probes.append(self.frame)
        probes += [probe for probe in (delivery, broker) if probe is not None]
        return probes

    async def _set_up(
        self, loop: asyncio.AbstractEventLoop, swarm: Swarm, mode: Mode
    ) -> list[Coroutine[Any, Any, Any]]:
        started, cpu = loop.time(), time.process_time()
        lives = []
        total = len(swarm.agent_ids)
        for agent in swarm.create_agents():
            lives.append(mode.agent(agent))
            if len(lives) % _SETUP_BATCH == 0:
                self.reporter.setup(len(lives), total)
                await asyncio.sleep(0)
                if self.stop_requested.is_set():
                    break
        self.reporter.setup(len(lives), total)
        self.timings["setup_s"] = loop.time() - started
        self.timings["setup_cpu_s"] = time.process_time() - cpu
        return lives

    async def _run_agents(
        self,
        loop: asyncio.AbstractEventLoop,
        swarm: Swarm,
        lives: list[Coroutine[Any, Any, Any]],
        probes: ProbeSet,
        broker: BrokerProbe | None,
    ) -> None:
        monitor = self.monitor
        if monitor is not None:
            await monitor.start(swarm.connector)
        if broker is not None:
            await broker.subscribe()
        await self._wait_for_start(loop)
        probes.start()
        started = loop.time()
        for agent in swarm.agents:
            agent.start_clock(started)
        tasks = [loop.create_task(self._supervised(life, swarm.tally)) for life in lives]
        if not self.stop_requested.is_set():
            await self._wait_for_end(loop, started, swarm.tally)
        self.timings["run_s"] = loop.time() - started
        await probes.stop()
        probes.checkpoint("end")  # before the agents stop: the state at the end of the run
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if monitor is not None:
            await monitor.stop()

    async def _wait_for_start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for the swarm's common start time: given, or told by the coordinator."""
        start_at = self.spec.start_at
        if self.spec.sync_stdin:
            print("ready", flush=True)
            start_at = await self._start_time_from_stdin(loop)
        if start_at is None:
            return
        delay = start_at - time.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), delay)
        else:
            _log.warning("the start time passed %.3f s ago: starting now", -delay)

    async def _start_time_from_stdin(self, loop: asyncio.AbstractEventLoop) -> float | None:
        """Read "start <time>"; anything else (the coordinator is gone) stops the run."""
        reader = asyncio.StreamReader()
        pipe, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
        line = asyncio.ensure_future(reader.readline())
        stop = asyncio.ensure_future(self.stop_requested.wait())
        try:
            await asyncio.wait({line, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            line.cancel()
            pipe.close()
        if not line.done() or line.cancelled():
            return None
        words = line.result().decode(errors="replace").split()
        if len(words) == 2 and words[0] == "start":
            with contextlib.suppress(ValueError):
                return float(words[1])
        _log.error("expected 'start <time>' on stdin, got %r: stopping", line.result())
        self.stop_requested.set()
        return None

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
        r = None if self.monitor is None else self.monitor.latest_order_parameter()
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
        self, swarm: Swarm, mode: Mode, probes: ProbeSet, transport: Transport
    ) -> dict[str, Any]:
        results = probes.results()
        metrics = {name: result.metrics for name, result in results.items()}
        metrics["work"] = self._work(swarm, mode, metrics.get("cpu", {}), transport)
        metrics["transport"] = transport.metrics()
        metrics["engine"] = _engine_totals(mode.engines())
        series: dict[str, Any] = {}
        if self.monitor is not None:
            metrics["convergence"] = self.monitor.result()
            series["convergence"] = self.monitor.series()
        for result in results.values():
            series.update(result.series)
        errors = {"agents": self.error_samples, "probes": dict(probes.errors)}
        interrupted = self.stop_requested.is_set()
        degraded = metrics["transport"]["degraded"]
        status = "interrupted" if interrupted else "degraded" if degraded else "complete"
        return {
            "metrics": metrics,
            "series": series,
            "interrupted": interrupted,
            "status": status,
            "errors": errors,
        }

    def _work(
        self, swarm: Swarm, mode: Mode, cpu: dict[str, Any], transport: Transport
    ) -> dict[str, Any]:
        tally = swarm.tally
        run_s = self.timings.get("run_s")
        cpu_s = cpu.get("cpu_s")
        # A local publish tells its publisher who heard it; over MQTT only the receiver knows.
        inbox_misses = tally.inbox_misses + transport.unheard()
        return {
            "agents": self.agents_set_up,  # config.agents is what was asked for
            "generations": mode.generations(),
            "steps": tally.steps,
            "flashes": tally.flashes,
            "flashes_per_s": _ratio(tally.flashes, run_s),
            "messages": tally.messages,
            "messages_delivered": transport.delivered(),
            "inbox_misses": inbox_misses,
            "inbox_misses_per_flash": _ratio(inbox_misses, tally.flashes),
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


def project_paths() -> tuple[str, ...]:
    """The engine's and the harness's folders as the stall probe names frames ("cascade/"):
    the code a stall is blamed on when the sampled stack passes through it."""
    return tuple(
        short_path(os.path.dirname(package.__file__ or "")) + os.sep for package in (cs, bench)
    )


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
