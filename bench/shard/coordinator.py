"""Run one swarm over worker processes: start them, start them together, merge their results.

Each worker is `python -m bench run --shard i/n --sync-stdin ...`: it sets up its zone's
agents, prints "ready" and waits; once all are ready the coordinator sends every worker
the same `start <time>` half a second ahead, so that all agents begin in the same second.
A worker that fails stops the others (they keep what they measured); Ctrl-C or SIGTERM
stops them all the same way. Whatever happens, every worker is reaped before this returns
and the merged document says what happened (`status`, `errors.workers`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.broker import Mosquitto, broker_for
from bench.environment import collect_meta
from bench.errors import BenchError
from bench.runner import RunSpec
from bench.schema import load_result
from bench.shard.merge import merge
from bench.stopping import sigterm_stops
from bench.suite.worker import describe_exit, stop_and_reap

START_DELAY_S = 0.5
"""How far ahead of "now" the common start time is sent: enough for every worker to read it."""
_ROOT = Path(__file__).resolve().parents[2]
_POLL_S = 0.05
_STDERR_LINES = 20


@dataclass
class _Worker:
    shard: int
    out: Path
    stderr_path: Path
    process: subprocess.Popen[bytes]
    ready: bool = False
    buffer: bytes = b""

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
            return "\n".join(lines[-_STDERR_LINES:])
        return ""


@dataclass
class _Outcome:
    failures: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    broker: dict[str, Any] = field(default_factory=dict)


def worker_argv(spec: RunSpec, shard: int, workers: int, url: str, out: Path) -> list[str]:
    """The `bench run` command line of one shard of `spec`."""
    config = spec.config
    argv = [
        *("run", "--mode", spec.mode, "--agents", str(config.agents)),
        *("--period", repr(config.period), "--nudge", repr(config.nudge)),
        *("--duration", repr(config.duration), "--seed", str(config.seed)),
        *("--loop", spec.loop, "--lag-interval", repr(spec.lag_interval)),
        *("--transport", "mqtt", "--broker", url, "--shard", f"{shard}/{workers}"),
        *("--sync-stdin", "--delivery" if spec.delivery else "--no-delivery"),
        *("--quiet", "--out", str(out)),
    ]
    if spec.trace_python:
        argv.append("--tracemalloc")
    if spec.objects_interval is not None:
        argv += ["--objects-interval", repr(spec.objects_interval)]
    if spec.inject_slowdown is not None:
        argv += ["--inject-slowdown", repr(spec.inject_slowdown)]
    argv += ["--stalls" if spec.stalls else "--no-stalls", "--gc", spec.gc]
    argv += ["--stall-threshold", repr(spec.stall_threshold * 1000)]
    return argv


def run_swarm(
    spec: RunSpec,
    workers: int,
    broker: str,
    say: Callable[[str], None] = lambda _: None,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Run `spec` over `workers` processes through `broker` ("auto" or a URL); the merged
    document. Never raises for a failed or stopped worker: the document says so."""
    meta = collect_meta(loop=spec.loop, clock=spec.clock, argv=argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-swarm-"))
    outcome = _Outcome()
    with broker_for(broker) as (url, mosquitto):
        say(f"broker {url}" + (" (started for this run)" if mosquitto else ""))
        crew = [_start(spec, shard, workers, url, folder) for shard in range(workers)]
        try:
            with sigterm_stops():
                _drive(crew, spec.config.duration, mosquitto, outcome, say)
        except KeyboardInterrupt:
            outcome.interrupted = True
            say("stopping the workers; keeping what they measured")
        finally:
            for worker in crew:
                stop_and_reap(worker.process)
                for pipe in (worker.process.stdin, worker.process.stdout):
                    if pipe is not None:
                        pipe.close()
        if mosquitto is not None and mosquitto.failed:
            outcome.failures.append(
                {"shard": None, "reason": "the broker failed", "stderr": mosquitto.log_tail()}
            )
    for worker in crew:
        code = worker.process.returncode
        if code not in (0, 130, 143) and not any(
            f["shard"] == worker.shard for f in outcome.failures
        ):
            outcome.failures.append(_failure(worker, _ended(code)))
    documents = [_load(worker) for worker in crew]
    config = {
        **spec.as_config(),
        "transport": "mqtt",
        "broker": broker,
        "workers": workers,
        "shard": None,
    }
    merged = merge(
        documents,
        meta=meta,
        config=config,
        broker=outcome.broker,
        failures=outcome.failures,
        interrupted=outcome.interrupted,
    )
    _broker_cost(merged["metrics"]["broker"])
    if outcome.failures:
        say(f"worker files kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return merged


def _start(spec: RunSpec, shard: int, workers: int, url: str, folder: Path) -> _Worker:
    out = folder / f"worker-{shard}.json"
    stderr_path = folder / f"worker-{shard}.stderr"
    command = [sys.executable, "-m", "bench", *worker_argv(spec, shard, workers, url, out)]
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C reaches the coordinator, which stops them in order
        )
    return _Worker(shard, out, stderr_path, process)


def _drive(
    crew: list[_Worker],
    duration: float,
    mosquitto: Mosquitto | None,
    outcome: _Outcome,
    say: Callable[[str], None],
) -> None:
    """Wait until all are ready, start them together, wait for them to finish."""
    _wait_ready(crew, outcome)
    if outcome.failures:
        return
    start_at = time.time() + START_DELAY_S
    for worker in crew:
        stdin = worker.process.stdin
        assert stdin is not None
        stdin.write(f"start {start_at!r}\n".encode())
        stdin.close()
    say(f"{len(crew)} workers ready; running for {duration:g} s")
    broker_cpu = _BrokerCpu(mosquitto)
    _sleep_until(start_at)
    broker_cpu.begin()
    end_at = start_at + duration
    while None in [worker.process.poll() for worker in crew]:  # every one polled
        if broker_cpu.ended is None and time.time() >= end_at:
            broker_cpu.end()
        failed = [w for w in crew if w.process.returncode not in (None, 0)]
        if failed:
            for worker in failed:
                outcome.failures.append(_failure(worker, _ended(worker.process.returncode)))
            say(f"worker {failed[0].shard} failed: stopping the others")
            return
        time.sleep(_POLL_S)
    if broker_cpu.ended is None:
        broker_cpu.end()
    outcome.broker = broker_cpu.result()


def _wait_ready(crew: list[_Worker], outcome: _Outcome) -> None:
    """Read each worker's stdout until it says "ready"; a worker that exits first failed."""
    with selectors.DefaultSelector() as selector:
        for worker in crew:
            assert worker.process.stdout is not None
            selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        while not all(worker.ready for worker in crew):
            for key, _ in selector.select(timeout=_POLL_S):
                worker = key.data
                chunk = _read(key.fileobj)
                worker.buffer += chunk
                if b"ready\n" in worker.buffer:
                    worker.ready = True
                    selector.unregister(key.fileobj)
                elif not chunk:
                    selector.unregister(key.fileobj)
            for worker in crew:
                if not worker.ready and worker.process.poll() is not None:
                    outcome.failures.append(
                        _failure(worker, f"{_ended(worker.process.returncode)} while setting up")
                    )
                    return


def _read(pipe: Any) -> bytes:
    return os.read(pipe.fileno(), 4096)


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


class _BrokerCpu:
    """The CPU a broker this coordinator started used over the run (psutil, its pid)."""

    def __init__(self, mosquitto: Mosquitto | None) -> None:
        self._process = (
            psutil.Process(mosquitto.pid) if mosquitto is not None and mosquitto.pid else None
        )
        self._begin: tuple[float, float] | None = None
        self.ended: tuple[float, float] | None = None

    def begin(self) -> None:
        self._begin = self._sample()

    def end(self) -> None:
        self.ended = self._sample()

    def result(self) -> dict[str, Any]:
        if self._begin is None or self.ended is None:
            return {}
        (t0, c0), (t1, c1) = self._begin, self.ended
        cpu = c1 - c0
        return {"cpu_s": cpu, "cpu_utilisation": cpu / (t1 - t0) if t1 > t0 else None}

    def _sample(self) -> tuple[float, float] | None:
        if self._process is None:
            return None
        with contextlib.suppress(psutil.Error):
            times = self._process.cpu_times()
            return time.monotonic(), times.user + times.system
        return None


def _broker_cost(broker: dict[str, Any]) -> None:
    """CPU per message through the broker, when both its CPU and its rates are known."""
    utilisation = broker.get("cpu_utilisation")
    rates = [broker.get("messages_in_per_s"), broker.get("messages_out_per_s")]
    if utilisation is None or rates[0] is None or rates[1] is None:
        return
    per_second = rates[0] + rates[1]
    if per_second:
        broker["cpu_us_per_message"] = utilisation * 1e6 / per_second


def _load(worker: _Worker) -> dict[str, Any] | None:
    if not worker.out.exists():
        return None
    try:
        return load_result(worker.out)
    except BenchError:
        return None


def _failure(worker: _Worker, reason: str) -> dict[str, Any]:
    return {"shard": worker.shard, "reason": reason, "stderr": worker.stderr_tail()}


def _ended(returncode: int | None) -> str:
    return "still running" if returncode is None else describe_exit(returncode)
