"""Who stalled the loop: every loop pass longer than a threshold, with its cause.

Three parts, none of which does more on the loop's thread than a heartbeat:
- a heartbeat: a callback the loop runs every `interval`; a gap between two beats longer than
  `interval + threshold` is a stall. It also reads the loop thread's CPU clock, which gives
  the loop's utilisation (busy fraction) per second, like Node's event-loop utilisation;
- a watchdog thread that wakes every `sample_interval` and, while the heartbeat is overdue by
  half the threshold or more, samples the loop thread's Python stack
  (`sys._current_frames()`); the samples of a gap that was no stall are dropped;
- `gc.callbacks`, timing every collection of the garbage collector.

After the run each stall gets one cause: `gc-gen0/1/2` when collections cover at least half
of it; `start-up` when no heartbeat had come on time before it (the probe starts just
before the agents do: their first steps, and whatever they set off, keep the loop late
until it first keeps up); `code` when the watchdog sampled it (with the function most
samples blame); else `unknown`.
The pure attribution (`attribute`, `summarise`) is separate from the measuring.
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from types import CodeType, FrameType
from typing import Any

from bench.probes.base import Probe, ProbeResult
from bench.source import line_name

CAUSES = ("gc-gen0", "gc-gen1", "gc-gen2", "start-up", "code", "unknown")
INNERMOST = 3
"""Frames always kept from the inside of a sampled stack, project or not."""
MAX_FRAMES = 12

Where = tuple[CodeType, int]
"""A frame as sampled: its code and its line (named only after the run)."""


@dataclass(frozen=True, slots=True)
class Collection:
    """One garbage collection: when (monotonic seconds), how long, which generation."""

    start: float
    duration: float
    generation: int
    collected: int


@dataclass(slots=True)
class Stall:
    """A gap between heartbeats: from when the beat was due to when it ran, and the loop
    thread's stacks sampled meanwhile (innermost frame first)."""

    start: float
    end: float
    samples: list[tuple[str, ...]] = field(default_factory=list)
    start_up: bool = False
    """It came before any heartbeat came on time: the swarm's start."""

    @property
    def duration(self) -> float:
        """Seconds the loop was late."""
        return self.end - self.start


def attribute(
    stall: Stall,
    collections: Sequence[Collection],
    project: Sequence[str] = (),
) -> dict[str, Any]:
    """One stall's cause, and the code its samples blame (pure; see the module docstring)."""
    overlap: dict[int, float] = {}
    for collection in collections:
        shared = min(stall.end, collection.start + collection.duration) - max(
            stall.start, collection.start
        )
        if shared > 0:
            overlap[collection.generation] = overlap.get(collection.generation, 0.0) + shared
    function, frames, share = _blame(stall.samples, project)
    gc_s = sum(overlap.values())
    generation = max(overlap, key=lambda g: (overlap[g], g)) if overlap else None
    if gc_s >= stall.duration / 2 and generation is not None:
        cause = f"gc-gen{generation}"
    elif stall.start_up:
        cause = "start-up"
    elif stall.samples:
        cause = "code"
    else:
        cause = "unknown"
    return {
        "cause": cause,
        "duration_ms": round(stall.duration * 1000, 3),
        "gc_ms": round(gc_s * 1000, 3),
        "gc_generation": generation,
        "function": function,
        "share": share,
        "samples": len(stall.samples),
        "frames": list(frames),
    }


def _blame(
    samples: Sequence[tuple[str, ...]], project: Sequence[str]
) -> tuple[str | None, tuple[str, ...], float | None]:
    """The function most samples blame (each sample's innermost project frame, or its
    innermost frame), the most common stack with it, and its share of the samples."""
    if not samples:
        return None, (), None
    blamed = [_innermost_of(sample, project) for sample in samples]
    function, count = Counter(blamed).most_common(1)[0]
    stacks = Counter(s for s, b in zip(samples, blamed, strict=True) if b == function)
    return function, stacks.most_common(1)[0][0], count / len(samples)


def _innermost_of(stack: tuple[str, ...], project: Sequence[str]) -> str:
    for frame in stack:
        if in_project(frame, project):
            return frame
    return stack[0] if stack else "?"


def in_project(frame: str, project: Sequence[str]) -> bool:
    """Whether a named frame (`function path:line`) lies under one of the `project` paths."""
    path = frame.rsplit(" ", 1)[-1]
    return any(path.startswith(root) for root in project)


def summarise(stalls: Sequence[dict[str, Any]], threshold_ms: float) -> dict[str, Any]:
    """`metrics.stalls`: count, stalled time, p99 and max, time and share by cause (pure)."""
    durations = sorted(stall["duration_ms"] for stall in stalls)
    total = sum(durations)
    by_cause = dict.fromkeys(CAUSES, 0.0)
    for stall in stalls:
        by_cause[stall["cause"]] = by_cause.get(stall["cause"], 0.0) + stall["duration_ms"]
    return {
        "threshold_ms": threshold_ms,
        "count": len(durations),
        "total_ms": round(total, 3),
        "p99_ms": _percentile(durations, 0.99),
        "max_ms": durations[-1] if durations else None,
        "by_cause_ms": {cause: round(ms, 3) for cause, ms in by_cause.items()},
        "share_by_cause": {
            cause: (round(ms / total, 4) if total else None) for cause, ms in by_cause.items()
        },
    }


def _percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def by_function(stalls: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Stalled milliseconds per (cause, blamed function), largest first: what to fix."""
    totals: Counter[str] = Counter()
    for stall in stalls:
        totals[f"{stall['cause']}: {stall['function'] or '-'}"] += stall["duration_ms"]
    return dict(totals.most_common())


class StallProbe(Probe):
    """Finds the loop's stalls and names their causes (real clock only)."""

    name = "stalls"
    timing = True

    def __init__(
        self,
        threshold: float = 0.020,
        interval: float = 0.010,
        sample_interval: float = 0.002,
        project: Sequence[str] = (),
    ) -> None:
        for label, value in (
            ("threshold", threshold),
            ("interval", interval),
            ("sample_interval", sample_interval),
        ):
            if not value > 0:
                raise ValueError(f"{label} must be > 0 seconds, got {value!r}")
        self.threshold, self.interval, self.sample_interval = threshold, interval, sample_interval
        self.project = tuple(project)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread = 0
        self._stopping = threading.Event()
        self._watchdog_error: str | None = None
        self._origin = 0.0
        self._last_beat = 0.0
        self._pending: dict[float, list[tuple[Where, ...]]] = {}
        self._stalls: list[tuple[float, float, list[tuple[Where, ...]], bool]] = []
        self._kept_up = False
        """Whether a beat has come on time yet: the stalls before it are the start-up."""
        self._own_cpu = 0.0  # the heartbeat's CPU seconds
        self._watchdog_cpu = 0.0
        self._process_cpu = (0.0, 0.0)  # the process's CPU seconds at start and stop
        self._collections: list[Collection] = []
        self._gc_started: float | None = None
        self._second = 0
        self._second_cpu = 0.0
        self._second_wall = 0.0
        self._utilisation: dict[str, list[Any]] = {"t_s": [], "busy": []}

    # the loop's side: the heartbeat
    def start(self) -> None:
        """Start the heartbeat, the gc timer and the watchdog thread."""
        if self._loop is not None:
            raise RuntimeError("StallProbe was already started; use a new probe per run")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        now = time.monotonic()
        self._process_cpu = (time.process_time(), 0.0)
        self._origin = self._last_beat = self._second_wall = now
        self._second_cpu = time.thread_time()
        gc.callbacks.append(self._on_gc)
        self._handle = self._loop.call_later(self.interval, self._beat)
        self._thread = threading.Thread(target=self._watch, name="bench.probes.stalls", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        cpu = time.thread_time()
        now = time.monotonic()
        previous = self._last_beat
        self._last_beat = now
        late = now - previous - self.interval
        sampled = self._pending.pop(previous, None)
        if late > self.threshold:
            start_up = not self._kept_up
            self._stalls.append((previous + self.interval, now, sampled or [], start_up))
        else:
            self._kept_up = True
        if self._pending:  # samples the watchdog stored after this beat had already run
            self._pending = {k: v for k, v in self._pending.items() if k >= now}
        if now - self._second_wall >= 1.0:
            self._close_second(now)
        assert self._loop is not None
        self._handle = self._loop.call_later(self.interval, self._beat)
        self._own_cpu += time.thread_time() - cpu

    def _close_second(self, now: float) -> None:
        cpu = time.thread_time()
        wall = now - self._second_wall
        self._utilisation["t_s"].append(self._second)
        self._utilisation["busy"].append(round(min(1.0, (cpu - self._second_cpu) / wall), 4))
        self._second += 1
        self._second_cpu, self._second_wall = cpu, now

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
        elif self._gc_started is not None:
            now = time.monotonic()
            self._collections.append(
                Collection(
                    self._gc_started,
                    now - self._gc_started,
                    int(info.get("generation", 0)),
                    int(info.get("collected", 0)),
                )
            )
            self._gc_started = None

    # the watchdog's side
    def _watch(self) -> None:
        # Asleep until the beat is overdue by half the threshold (a stall's samples then
        # cover most of it), then awake every sample_interval while it stays overdue. Plain
        # sleeps: a first version, waking every 2 ms through an Event's timed wait, cost an
        # idle loop 11 ms of CPU per second (with a 5 ms beat); this one costs 6.
        try:
            while not self._stopping.is_set():
                beat = self._last_beat
                overdue = time.monotonic() - beat - self.interval - self.threshold / 2
                if overdue < 0:
                    time.sleep(-overdue)
                    continue
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    self._pending.setdefault(beat, []).append(_stack(frame))
                time.sleep(self.sample_interval)
        except Exception as error:  # reported by stop(); the run goes on without samples
            self._watchdog_error = f"{type(error).__name__}: {error}"
        self._watchdog_cpu = time.thread_time()  # this thread's CPU since it started

    async def stop(self) -> None:
        """Stop the heartbeat, the gc timer and the watchdog; raise if the watchdog failed."""
        if self._loop is None:
            return
        if self._handle is not None:
            self._handle.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self._stopping.set()
        self._process_cpu = (self._process_cpu[0], time.process_time())
        if self._thread is not None:
            self._thread.join(timeout=1.0)  # it notices within interval + threshold / 2
        if self._watchdog_error is not None:
            raise RuntimeError(f"the watchdog thread failed: {self._watchdog_error}")

    def result(self) -> ProbeResult:
        """`metrics.stalls`, `series.stalls` (each stall, its cause and frames) and
        `series.loop_utilisation` (busy fraction per second)."""
        stalls = []
        for start, end, sampled, start_up in list(self._stalls):
            named = [trim([_name(where) for where in stack], self.project) for stack in sampled]
            stall = Stall(start, end, named, start_up)
            found = attribute(stall, self._collections, self.project)
            stalls.append({"start_s": round(start - self._origin, 4), **found})
        metrics = summarise(stalls, self.threshold * 1000)
        metrics["samples"] = sum(stall["samples"] for stall in stalls)
        metrics.update(_gc_totals(self._collections))
        busy = self._utilisation["busy"]
        metrics["utilisation_mean"] = round(sum(busy) / len(busy), 4) if busy else None
        own = self._own_cpu + self._watchdog_cpu
        start, stop = self._process_cpu
        metrics["probe_cpu_ms"] = round(own * 1000, 3)
        metrics["probe_cpu_share"] = round(own / (stop - start), 5) if stop > start else None
        return ProbeResult(
            metrics=metrics,
            series={
                "stalls": stalls,
                "loop_utilisation": {key: list(v) for key, v in self._utilisation.items()},
            },
        )


def _stack(frame: FrameType | None) -> tuple[Where, ...]:
    """The stack from `frame` outwards, innermost first, as (code, line) pairs, without this
    module's own frames (the gc callback, when a sample lands in it)."""
    stack = []
    while frame is not None:
        if frame.f_code.co_filename != __file__:
            stack.append((frame.f_code, frame.f_lineno or frame.f_code.co_firstlineno))
        frame = frame.f_back
    return tuple(stack)


@cache
def _name(where: Where) -> str:
    return line_name(*where)


def trim(stack: Sequence[str], project: Sequence[str]) -> tuple[str, ...]:
    """The INNERMOST frames and the project's frames of a named stack, at most MAX_FRAMES."""
    kept = [
        frame
        for index, frame in enumerate(stack)
        if index < INNERMOST or in_project(frame, project)
    ]
    return tuple(kept[:MAX_FRAMES])


def _gc_totals(collections: Sequence[Collection]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    total: dict[str, float] = {}
    longest: dict[str, float] = {}
    for collection in collections:
        key = str(collection.generation)
        counts[key] += 1
        total[key] = total.get(key, 0.0) + collection.duration * 1000
        longest[key] = max(longest.get(key, 0.0), collection.duration * 1000)
    keys = ("0", "1", "2")
    return {
        "gc_collections": {k: counts[k] for k in keys},
        "gc_ms": {k: round(total.get(k, 0.0), 3) for k in keys},
        "gc_max_ms": {k: round(longest.get(k, 0.0), 3) for k in keys},
    }
