"""The renderer's frame loop: how starved the event loop is, as a 60 fps terminal UI feels it.

Each frame offloads the pending flashes to a thread (like the original renderer), decays and
renders a side x side grid as ANSI bytes, and records the flush duration (which includes
waiting for the loop to resume) and how far past its deadline the frame ended. Durations go
into histograms and per-second maxima, never a list per frame: memory stays flat however
long the run.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from bench.probes.base import Probe, ProbeResult, cancel_and_wait
from bench.probes.latency import Spread

_HOME = b"\x1b[H"
_ROW_END = b"\x1b[0m\n"
_CLEAR_LINE = b"\x1b[K"
# 256-colour cube yellows, dark to bright: 16 + 36 r + 6 g for r = g = 0..5.
_PALETTE = (16, 58, 100, 142, 184, 226)
_LEVELS = len(_PALETTE)
# One entry per intensity level plus the row end, so a frame is one fancy index and one join.
_LUT = np.array([f"\x1b[48;5;{code}m  ".encode() for code in _PALETTE] + [_ROW_END], dtype=object)
_PERCENTILES = {"p50_ms": 50.0, "p99_ms": 99.0}
_MIN_SECOND_COVERAGE = 0.5


def cell_levels(grid: np.ndarray) -> np.ndarray:
    """Map intensities in [0, 1] to palette levels 0..5 (0 dark); a fresh mark is level 5."""
    return np.minimum((grid * _LEVELS).astype(np.intp), _LEVELS - 1)


def render_frame(grid: np.ndarray, side: int, status: str | None = None) -> bytes:
    """Render a flat side*side grid as ANSI bytes: home, coloured rows, optional status line."""
    index = np.full((side, side + 1), _LEVELS, dtype=np.intp)
    index[:, :side] = cell_levels(grid).reshape(side, side)
    parts = [_HOME, b"".join(_LUT[index.ravel()].tolist())]
    if status is not None:
        parts += [status.encode(), _CLEAR_LINE, b"\n"]
    return b"".join(parts)


def frame_metrics(
    flush: Spread, jitter: Spread, elapsed_s: float, bytes_rendered: int
) -> dict[str, Any]:
    """Frame count, achieved fps and flush/jitter percentiles; None where there are no frames."""
    frames = flush.count
    return {
        "frames": frames,
        "fps": frames / elapsed_s if frames and elapsed_s > 0 else None,
        **flush.summary("flush", _PERCENTILES),
        **jitter.summary("jitter", _PERCENTILES),
        "jitter_mean_ms": jitter.mean_ms(),
        "bytes_rendered": bytes_rendered,
    }


class PerSecond:
    """Per second of the run: frames started in it and the worst flush and jitter among them.

    One entry per second (not per frame), so a long run costs a few bytes a second.
    """

    def __init__(self) -> None:
        self.counts: list[int] = []
        self.flush_max_ms: list[float | None] = []
        self.jitter_max_ms: list[float | None] = []

    def record(self, start_s: float, flush_ms: float, jitter_ms: float) -> None:
        """Count a frame that started `start_s` seconds into the run."""
        second = int(start_s)
        if second < 0:
            return
        while len(self.counts) <= second:
            self.counts.append(0)
            self.flush_max_ms.append(None)
            self.jitter_max_ms.append(None)
        self.counts[second] += 1
        self.flush_max_ms[second] = max(self.flush_max_ms[second] or 0.0, flush_ms)
        self.jitter_max_ms[second] = max(self.jitter_max_ms[second] or 0.0, jitter_ms)

    def series(self, elapsed_s: float) -> dict[str, list[Any]]:
        """fps and maxima per second; a trailing second covered less than half is left out."""
        n = max(0, int(elapsed_s + 1 - _MIN_SECOND_COVERAGE))
        pad = [None] * max(0, n - len(self.counts))
        counts = (self.counts + [0] * len(pad))[:n]
        covered = np.minimum(1.0, elapsed_s - np.arange(n))
        return {
            "t_s": list(range(n)),
            "fps": (np.asarray(counts, dtype=float) / covered).tolist() if n else [],
            "flush_max_ms": (self.flush_max_ms + pad)[:n],
            "jitter_max_ms": (self.jitter_max_ms + pad)[:n],
        }


def _apply(grid: np.ndarray, batch: list[int]) -> None:
    """Light the flashed cells; runs in a worker thread like the original renderer's flush."""
    if batch:
        grid[np.asarray(batch, dtype=np.intp)] = 1.0


class FrameProbe(Probe):
    """Runs a renderer's frame loop at `fps` and records flush durations and deadline misses."""

    name = "frame"
    timing = True

    def __init__(
        self,
        side: int,
        sink: BinaryIO | None = None,
        fps: float = 60.0,
        decay: float = 0.85,
        status: Callable[[], str] | None = None,
    ) -> None:
        _validate(side, fps, decay)
        self._side, self._sink, self._status = side, sink, status
        self._period, self._decay = 1.0 / fps, np.float32(decay)
        self._grid = np.zeros(side * side, dtype=np.float32)
        self._pending: list[int] = []
        self._flush_ms, self._jitter_ms = Spread(), Spread()
        self._per_second = PerSecond()
        self._recent: deque[float] = deque()  # start times of the last second's frames
        self._bytes = 0
        self._last_frame = b""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._t0 = 0.0
        self._stopped_at: float | None = None

    @property
    def last_frame(self) -> bytes:
        """The bytes of the most recently rendered frame (empty before the first)."""
        return self._last_frame

    def recent_fps(self) -> float:
        """Frames started during the last second of the loop's clock (for a live status line)."""
        if self._loop is None:
            return 0.0
        elapsed = self._loop.time() - self._t0
        recent = len(self._recent) - bisect.bisect_left(self._recent, elapsed - 1.0)
        return recent / min(1.0, elapsed) if elapsed > 0 else 0.0

    def mark(self, cell: int) -> None:
        """Queue a flash of `cell` for the next frame; only a list append, cheap for the runner."""
        self._pending.append(cell)

    def start(self) -> None:
        """Start the frame loop task on the running loop."""
        if self._task is not None:
            raise RuntimeError("FrameProbe was already started; use a new probe per run")
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._task = self._loop.create_task(self._run(self._loop), name="bench.probes.frame")

    async def stop(self) -> None:
        """Cancel the frame loop and wait for it."""
        if self._task is None or self._loop is None:
            return
        if self._stopped_at is None:
            self._stopped_at = self._loop.time()
        await cancel_and_wait(self._task)

    def result(self) -> ProbeResult:
        """Frame statistics so far and the per-second series."""
        elapsed = self._elapsed()
        metrics = frame_metrics(self._flush_ms, self._jitter_ms, elapsed, self._bytes)
        series = self._per_second.series(elapsed)
        return ProbeResult(metrics=metrics, series={"frame_per_second": series})

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        # Frame k starts at anchor + k * period (no drift from summing periods).
        anchor, k, period = loop.time(), 0, self._period
        while True:
            deadline = anchor + (k + 1) * period
            flush_ms = await self._flush(loop)
            self._draw()
            now = loop.time()
            self._record(anchor + k * period, flush_ms, max(0.0, now - deadline) * 1000.0)
            # The next frame's slot ends at deadline + period; if that is past too, the missed
            # frames are skipped and the schedule restarts from now (never a burst to catch up).
            anchor, k = (anchor, k + 1) if deadline + period > now else (now, 0)
            await asyncio.sleep(max(0.0, anchor + k * period - now))

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> float:
        """Apply the pending flashes in a thread; the time includes waiting for the loop back."""
        t0 = loop.time()
        batch, self._pending = self._pending, []
        await asyncio.to_thread(_apply, self._grid, batch)
        return (loop.time() - t0) * 1000.0

    def _draw(self) -> None:
        self._grid *= self._decay
        status = self._status() if self._status is not None else None
        frame = render_frame(self._grid, self._side, status)
        if self._sink is not None:
            self._sink.write(frame)
            if hasattr(self._sink, "flush"):
                self._sink.flush()
        self._bytes += len(frame)
        self._last_frame = frame

    def _record(self, frame_start: float, flush_ms: float, jitter_ms: float) -> None:
        start_s = frame_start - self._t0
        self._flush_ms.record(flush_ms)
        self._jitter_ms.record(jitter_ms)
        self._per_second.record(start_s, flush_ms, jitter_ms)
        self._recent.append(start_s)
        while self._recent[0] < start_s - 1.0:
            self._recent.popleft()

    def _elapsed(self) -> float:
        if self._loop is None:
            return 0.0
        end = self._stopped_at if self._stopped_at is not None else self._loop.time()
        return end - self._t0


def _validate(side: int, fps: float, decay: float) -> None:
    if not side > 0:
        raise ValueError(f"side must be a positive number of cells, got {side!r}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if not 0 <= decay <= 1:
        raise ValueError(f"decay must be between 0 and 1, got {decay!r}")
