"""ObjectsProbe: gc-tracked objects by type per checkpoint, per unit, and gc runs."""

import asyncio
import gc

import pytest

from bench.probes.objects import ObjectsProbe


def test_tracked_instances_are_counted_per_unit():
    class Engine:
        pass

    gc.collect()  # leftover garbage from other tests must not be freed between checkpoints
    probe = ObjectsProbe(units=10, track=("Engine", "NoSuchType"))
    probe.checkpoint("baseline")
    engines = [Engine() for _ in range(10_000)]
    probe.checkpoint("after_setup")
    del engines
    probe.checkpoint("end")
    result = probe.result()
    types = result.series["object_types"]
    tracked = {label: types[label]["tracked"] for label in ("baseline", "after_setup", "end")}
    assert tracked["after_setup"]["Engine"] - tracked["baseline"]["Engine"] == 10_000
    assert tracked["end"]["Engine"] == tracked["baseline"]["Engine"]
    assert tracked["after_setup"]["NoSuchType"] == 0
    assert result.metrics["objects_per_agent"] >= 950
    assert result.metrics["objects_end"] < result.metrics["objects_after_setup"] - 9_000


async def test_asyncio_tasks_are_tracked_by_qualname_or_full_name():
    probe = ObjectsProbe(units=1, track=("Task", "_asyncio.Task", "cascade.spec.task.Task"))
    probe.checkpoint("baseline")
    tasks = [asyncio.create_task(asyncio.sleep(10)) for _ in range(50)]
    probe.checkpoint("after_setup")
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    types = probe.result().series["object_types"]
    before, after = types["baseline"]["tracked"], types["after_setup"]["tracked"]
    assert after["Task"] - before["Task"] == 50
    assert after["_asyncio.Task"] - before["_asyncio.Task"] == 50
    assert after["cascade.spec.task.Task"] == before["cascade.spec.task.Task"]


def test_top_is_limited_and_ordered():
    probe = ObjectsProbe(units=1, top=5)
    probe.checkpoint("baseline")
    top = probe.result().series["object_types"]["baseline"]["top"]
    assert len(top) == 5
    counts = list(top.values())
    assert counts == sorted(counts, reverse=True)
    assert "function" in top  # a test process holds tens of thousands of functions


def test_collections_between_after_setup_and_end_are_counted():
    probe = ObjectsProbe(units=1)
    probe.checkpoint("after_setup")
    gc.collect()
    probe.checkpoint("end")
    metrics = probe.result().metrics
    runs = [metrics[f"gc_collections_gen{gen}"] for gen in range(3)]
    assert all(isinstance(count, int) and count >= 0 for count in runs)
    assert runs[2] >= 1


def test_missing_checkpoints_give_none():
    probe = ObjectsProbe(units=3, unit_name="engine")
    assert set(probe.result().metrics.values()) == {None}
    probe.checkpoint("baseline")
    result = probe.result()
    assert result.metrics["objects_baseline"] > 0
    assert result.metrics["objects_per_engine"] is None
    assert result.metrics["gc_collections_gen0"] is None
    assert list(result.series["object_types"]) == ["baseline"]


def test_units_are_checked():
    with pytest.raises(ValueError, match=r"^units must be at least 1, got 0$"):
        ObjectsProbe(units=0)


def test_units_can_be_corrected_after_set_up():
    """Set-up stopped early: the runner tells the probe how many units were really set up."""
    gc.collect()
    probe = ObjectsProbe(units=90_000)
    probe.checkpoint("baseline")
    kept = [[] for _ in range(40_000)]
    probe.checkpoint("after_setup")
    probe.units = 40_000
    metrics = probe.result().metrics
    del kept
    growth = metrics["objects_after_setup"] - metrics["objects_baseline"]
    assert metrics["objects_per_agent"] == growth / 40_000
    assert 1 <= metrics["objects_per_agent"] < 1.1
    assert probe.units == 40_000
    with pytest.raises(ValueError, match=r"^units must be at least 1, got 0$"):
        probe.units = 0


async def test_sampled_counts_give_the_trend_of_the_second_half():
    gc.collect()
    probe = ObjectsProbe(units=1, sample_interval=1.0)
    kept = []
    probe.start()
    for _ in range(20):  # looptime: 20 virtual seconds, 1,000 more objects each
        kept += [[] for _ in range(1_000)]
        await asyncio.sleep(1.0)
    await probe.stop()
    result = probe.result()

    series = result.series["objects"]
    assert series["t_s"] == pytest.approx([float(k) for k in range(1, 20)], abs=0.01)
    assert series["count"][-1] - series["count"][0] >= 18_000
    assert result.metrics["objects_slope_per_s"] == pytest.approx(1_000, rel=0.05)


def test_without_an_interval_nothing_is_sampled():
    probe = ObjectsProbe(units=1)
    probe.start()  # no loop needed: no task

    result = probe.result()
    assert result.series["objects"] == {"t_s": [], "count": []}
    assert result.metrics["objects_slope_per_s"] is None


def test_rejects_a_sample_interval_that_is_not_positive():
    with pytest.raises(ValueError) as error:
        ObjectsProbe(units=1, sample_interval=0)
    assert str(error.value) == "sample_interval must be positive, got 0"
