"""FrameProbe: frame timing on a blocked and an idle loop, rendering, sinks and the statistics."""

import asyncio
import io
import re
import time
import tracemalloc

import numpy as np
import pytest

from bench.probes.base import ProbeSet
from bench.probes.frame import (
    FrameProbe,
    PerSecond,
    cell_levels,
    frame_metrics,
    render_frame,
)
from bench.probes.latency import Spread

DARK, BRIGHT = 16, 226
_CELL = re.compile(rb"\x1b\[48;5;(\d+)m  ")


def cell_colours(frame: bytes) -> list[int]:
    """The background colour code of every cell of a rendered frame, row by row."""
    return [int(code) for code in _CELL.findall(frame)]


class CountingSink(io.BytesIO):
    """A byte sink that counts its flushes."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1


async def run_probe(probe: FrameProbe, seconds: float) -> FrameProbe:
    probe.start()
    await asyncio.sleep(seconds)
    await probe.stop()
    return probe


@pytest.mark.looptime(False)
async def test_blocked_loop_shows_jitter_or_a_long_flush_and_skips_frames():
    loop = asyncio.get_running_loop()
    probe = FrameProbe(side=4)
    t0 = loop.time()
    probe.start()
    await asyncio.sleep(0.1)
    time.sleep(0.15)  # block the loop on purpose
    await asyncio.sleep(0.15)
    await probe.stop()
    elapsed = loop.time() - t0
    metrics = probe.result().metrics
    assert max(metrics["jitter_max_ms"], metrics["flush_max_ms"]) >= 100
    # The stalled frames are skipped, not rendered in a burst afterwards.
    assert metrics["frames"] <= (elapsed - 0.15) * 60 + 3


async def test_idle_loop_renders_at_the_target_rate_on_the_virtual_clock():
    metrics = (await run_probe(FrameProbe(side=4), 1.0)).result().metrics
    assert metrics["frames"] == 60
    assert metrics["fps"] == pytest.approx(60.0)
    assert metrics["jitter_max_ms"] == 0.0


@pytest.mark.looptime(False)
async def test_idle_loop_renders_close_to_the_target_rate_on_the_real_clock():
    metrics = (await run_probe(FrameProbe(side=4, fps=50.0), 0.3)).result().metrics
    assert 20 <= metrics["fps"] <= 55  # generous: CI machines are noisy
    assert metrics["jitter_p50_ms"] < 5


async def test_per_second_series_counts_frames_per_second():
    series = (await run_probe(FrameProbe(side=2), 2.0)).result().series["frame_per_second"]
    assert series["t_s"] == [0, 1]
    assert series["fps"] == pytest.approx([60.0, 60.0])
    assert series["jitter_max_ms"] == [0.0, 0.0]


def test_render_shows_a_marked_cell_in_its_own_colour():
    grid = np.zeros(9, dtype=np.float32)
    grid[4] = 1.0
    frame = render_frame(grid, 3)
    assert frame.startswith(b"\x1b[H")
    assert frame.count(b"\x1b[0m\n") == 3
    assert cell_colours(frame) == [DARK] * 4 + [BRIGHT] + [DARK] * 4


def test_render_appends_the_status_line():
    frame = render_frame(np.zeros(4, dtype=np.float32), 2, status="gen 7")
    assert frame.endswith(b"\x1b[0m\ngen 7\x1b[K\n")
    assert render_frame(np.zeros(4, dtype=np.float32), 2).endswith(b"\x1b[0m\n")


def test_levels_cover_the_palette():
    levels = cell_levels(np.array([0.0, 0.1, 0.5, 0.85, 1.0], dtype=np.float32))
    assert levels.tolist() == [0, 0, 3, 5, 5]


async def test_marks_light_cells_in_the_next_frame_and_then_fade():
    probe = FrameProbe(side=3)
    probe.start()
    probe.mark(5)
    await asyncio.sleep(0.01)
    assert cell_colours(probe.last_frame) == [DARK] * 5 + [BRIGHT] + [DARK] * 3
    await asyncio.sleep(0.5)
    await probe.stop()
    assert cell_colours(probe.last_frame) == [DARK] * 9


async def test_null_sink_counts_the_bytes_it_discards():
    probe = await run_probe(FrameProbe(side=3), 0.1)
    metrics = probe.result().metrics
    assert metrics["frames"] > 0
    assert metrics["bytes_rendered"] == metrics["frames"] * len(probe.last_frame)


async def test_sink_receives_every_frame_and_is_flushed():
    sink = CountingSink()
    probe = await run_probe(FrameProbe(side=3, sink=sink), 0.1)
    metrics = probe.result().metrics
    assert len(sink.getvalue()) == metrics["bytes_rendered"]
    assert sink.getvalue().endswith(probe.last_frame)
    assert sink.flushes == metrics["frames"]


async def test_status_line_is_in_every_frame():
    probe = await run_probe(FrameProbe(side=2, status=lambda: "agents 12"), 0.05)
    assert probe.last_frame.endswith(b"agents 12\x1b[K\n")


async def test_a_bad_cell_kills_the_loop_and_is_reported_by_the_probe_set():
    probe = FrameProbe(side=2)
    probes = ProbeSet([probe])
    probes.start()
    probe.mark(4)
    await asyncio.sleep(0.05)
    await probes.stop()
    assert probes.errors["frame"].startswith("stop: IndexError")


def test_result_before_start_has_no_frames():
    result = FrameProbe(side=2).result()
    assert result.metrics["frames"] == 0
    assert result.metrics["bytes_rendered"] == 0
    assert {k for k, v in result.metrics.items() if v is None} == {
        "fps",
        "flush_p50_ms",
        "flush_p99_ms",
        "flush_max_ms",
        "jitter_p50_ms",
        "jitter_p99_ms",
        "jitter_max_ms",
        "jitter_mean_ms",
    }
    assert result.series["frame_per_second"]["t_s"] == []


def spread(values):
    result = Spread()
    for value in values:
        result.record(value)
    return result


def test_frame_metrics_from_synthetic_frames():
    metrics = frame_metrics(spread([1.0, 2.0, 3.0, 100.0]), spread([0, 0, 0, 40.0]), 0.1, 1234)
    assert metrics["frames"] == 4
    assert metrics["fps"] == pytest.approx(40.0)
    # The recorded value at the rank (HdrHistogram, 3 digits): 2 of 4 is the 2nd, 99% the 4th.
    assert metrics["flush_p50_ms"] == pytest.approx(2.0, rel=1e-3)
    assert metrics["flush_p99_ms"] == pytest.approx(100.0, rel=1e-3)
    assert metrics["flush_max_ms"] == 100.0
    assert metrics["jitter_p50_ms"] == 0.0
    assert metrics["jitter_p99_ms"] == pytest.approx(40.0, rel=1e-3)
    assert metrics["jitter_mean_ms"] == pytest.approx(10.0)
    assert metrics["bytes_rendered"] == 1234


async def test_a_long_run_costs_a_few_bytes_a_second_not_a_list_entry_per_frame():
    probe = await run_probe(FrameProbe(side=2), 1.0)
    frames = 36_000  # ten minutes at 60 fps
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k in range(frames):
            probe._record(probe._t0 + 1.0 + k / 60, 1.0 + k % 7, float(k % 3))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # Per-frame lists of three floats took 96 bytes a frame; per-second maxima take ~2.
    assert grown / frames < 4


def per_second(frames):
    """A PerSecond fed with (start_s, flush_ms, jitter_ms) frames."""
    result = PerSecond()
    for frame in frames:
        result.record(*frame)
    return result


def test_per_second_groups_by_second_and_drops_a_short_trailing_second():
    frames = [(0.0, 1.0, 0.0), (0.5, 2.0, 5.0), (1.2, 3.0, 0.0), (2.1, 4.0, 1.0)]
    assert per_second(frames).series(elapsed_s=2.25) == {
        "t_s": [0, 1],
        "fps": [2.0, 1.0],
        "flush_max_ms": [2.0, 3.0],
        "jitter_max_ms": [5.0, 0.0],
    }


def test_per_second_rates_a_mostly_covered_trailing_second_and_marks_empty_ones():
    series = per_second([(0.1, 1.0, 0.0), (2.2, 7.0, 2.0)]).series(elapsed_s=2.5)
    assert series["t_s"] == [0, 1, 2]
    assert series["fps"] == [1.0, 0.0, 2.0]
    assert series["flush_max_ms"] == [1.0, None, 7.0]


def test_per_second_pads_seconds_after_the_last_frame():
    series = per_second([(0.1, 1.0, 0.0)]).series(elapsed_s=3.0)
    assert series["t_s"] == [0, 1, 2]
    assert series["fps"] == [1.0, 0.0, 0.0]
    assert series["jitter_max_ms"] == [0.0, None, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"side": 0}, "side must be a positive number of cells, got 0"),
        ({"side": 2, "fps": 0}, "fps must be > 0, got 0"),
        ({"side": 2, "decay": 1.5}, "decay must be between 0 and 1, got 1.5"),
    ],
)
def test_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as error:
        FrameProbe(**kwargs)
    assert str(error.value) == message
