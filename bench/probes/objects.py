"""Live objects by type at each checkpoint, and how often the garbage collector ran.

Counts come from `gc.get_objects()`, which lists only objects the collector tracks:
containers and instances of most classes, but not ints, strs, floats or bytes, nor dicts
and tuples that CPython has untracked because they hold only such atoms. The numbers are
therefore a floor, good for comparing runs and spotting objects that pile up per unit.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.probes.base import ProbeResult, cancel_and_wait
from bench.probes.per_unit import PerUnitProbe
from bench.stats import leak_slope

_GENERATIONS = 3


@dataclass(frozen=True, slots=True)
class _Census:
    """What one checkpoint saw: totals, the commonest types, the tracked types, gc runs."""

    total: int
    top: dict[str, int]
    tracked: dict[str, int]
    collections: tuple[int, ...]


def _is_named(kind: type, name: str) -> bool:
    """Whether `name` is the type's qualname, its qualname's last part or its module.qualname."""
    qualname = kind.__qualname__
    if qualname == name or qualname.endswith("." + name):
        return True
    return f"{kind.__module__}.{qualname}" == name


def _count_types() -> tuple[int, Counter[type]]:
    """Every gc-tracked object counted by its type, in one pass."""
    objects = gc.get_objects()
    total = len(objects)
    # Counting type objects (not their names) keeps the pass in C: about twice as fast.
    by_type = Counter(map(type, objects))
    del objects  # the list keeps every object in the process alive
    return total, by_type


def _census(track: Sequence[str], top: int) -> _Census:
    """Count the live objects now: the `top` commonest qualnames and each tracked name."""
    total, by_type = _count_types()
    by_name: Counter[str] = Counter()
    for kind, count in by_type.items():
        by_name[kind.__qualname__] += count
    tracked = {
        name: sum(count for kind, count in by_type.items() if _is_named(kind, name))
        for name in track
    }
    collections = tuple(stats["collections"] for stats in gc.get_stats())
    return _Census(total, dict(by_name.most_common(top)), tracked, collections)


class ObjectsProbe(PerUnitProbe):
    """gc-tracked objects per checkpoint and per unit, by type, and gc runs during the run.

    With `sample_interval`, also the total every that many loop seconds and its trend over
    the second half (`objects_slope_per_s`): what a soak judges. Off by default: each count
    walks every tracked object on the loop's thread (2-3 ms per 100,000).

    Types are keyed by `__qualname__`, so same-named classes of different modules share a
    key (asyncio's C `Task` and `cascade.spec.task.Task` are both "Task"). A tracked name
    also matches a nested or local class by its last part ("Engine" matches
    "make.<locals>.Engine") and a single type by "module.qualname" ("_asyncio.Task").
    """

    name = "objects"
    timing = False

    def __init__(
        self,
        units: int,
        unit_name: str = "agent",
        track: Sequence[str] = (),
        top: int = 15,
        sample_interval: float | None = None,
    ) -> None:
        if sample_interval is not None and not sample_interval > 0:
            raise ValueError(f"sample_interval must be positive, got {sample_interval}")
        self.units = units
        self._unit_name = unit_name
        self._track = tuple(track)
        self._top = top
        self._interval = sample_interval
        self._censuses: dict[str, _Census] = {}
        self._t: list[float] = []
        self._counts: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start counting every `sample_interval` loop seconds, if asked to."""
        if self._interval is not None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._sample(loop), name="bench.probes.objects")

    async def stop(self) -> None:
        """Stop counting; re-raise what broke the sampling task, if anything did."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    def checkpoint(self, label: str) -> None:
        """Count the live objects by type now (about 0.1 s per million objects)."""
        self._censuses[label] = _census(self._track, self._top)

    def result(self) -> ProbeResult:
        """Object totals, objects per unit and gc runs; missing checkpoints give None."""
        metrics: dict[str, Any] = {
            f"objects_{label}": self._total(label) for label in ("baseline", "after_setup", "end")
        }
        metrics[f"objects_per_{self._unit_name}"] = self._per_unit(
            self._total("baseline"), self._total("after_setup")
        )
        metrics |= self._collections()
        metrics["objects_slope_per_s"] = leak_slope(self._t, self._counts)
        types = {
            label: {"top": dict(census.top), "tracked": dict(census.tracked)}
            for label, census in self._censuses.items()
        }
        counts = {"t_s": list(self._t), "count": list(self._counts)}
        return ProbeResult(metrics=metrics, series={"object_types": types, "objects": counts})

    async def _sample(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._interval is not None
        t0 = loop.time()
        for k in itertools.count(1):  # absolute deadlines: the counting does not drift them
            await asyncio.sleep(t0 + k * self._interval - loop.time())
            self._t.append(loop.time() - t0)
            self._counts.append(len(gc.get_objects()))

    def _total(self, label: str) -> int | None:
        census = self._censuses.get(label)
        return None if census is None else census.total

    def _collections(self) -> dict[str, int | None]:
        """Collections per generation between "after_setup" and "end"."""
        before, after = self._censuses.get("after_setup"), self._censuses.get("end")
        keys = [f"gc_collections_gen{gen}" for gen in range(_GENERATIONS)]
        if before is None or after is None:
            return dict.fromkeys(keys)
        deltas = (a - b for a, b in zip(after.collections, before.collections, strict=True))
        return dict(zip(keys, deltas, strict=True))
