"""ResourceManager: the engine's finite system capacities (e.g. `cpu_slot`), shared by all runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cascade.errors import CapacityError
from cascade.runtime.change_signal import ChangeSignal

Requirements = Mapping[str, float]


class ResourceManager:
    """Grants a task all of its requirements at once, or makes it wait until it can.

    With no capacity configured every requirement is granted immediately.
    """

    __slots__ = ("_available", "_capacity", "_changed")

    def __init__(self, capacity: Mapping[str, float] | None = None) -> None:
        self._capacity = dict(capacity or {})
        for name, amount in self._capacity.items():
            if amount < 0:
                raise CapacityError(f"system resource {name!r} has negative capacity {amount}")
        self._available = dict(self._capacity)
        self._changed = ChangeSignal()

    @property
    def capacity(self) -> dict[str, float]:
        """The configured totals."""
        return dict(self._capacity)

    @property
    def available(self) -> dict[str, float]:
        """What is free right now."""
        return dict(self._available)

    def check(self, requirements: Requirements, task_name: str) -> None:
        """Raise CapacityError when `requirements` could never be granted."""
        if not self._capacity:
            return
        for name, amount in requirements.items():
            if name not in self._capacity:
                raise CapacityError(
                    f"task {task_name!r} requires {name}={amount} but the engine's "
                    f"system_resources define only {sorted(self._capacity)}"
                )
            if amount > self._capacity[name]:
                raise CapacityError(
                    f"task {task_name!r} requires {name}={amount} but the engine's capacity "
                    f"is {self._capacity[name]}"
                )

    def try_acquire(self, requirements: Requirements) -> bool:
        """Take all requirements if they are free now; never waits."""
        if not self._capacity:
            return True
        if any(self._available[n] < amount for n, amount in requirements.items()):
            return False
        for name, amount in requirements.items():
            self._available[name] -= amount
        return True

    async def acquire(
        self, requirements: Requirements, task_name: str, on_blocked: Callable[[str], None]
    ) -> None:
        """Wait until all requirements are free and take them; `on_blocked` is told once why."""
        self.check(requirements, task_name)
        told = False
        while not self.try_acquire(requirements):
            if not told:
                on_blocked(f"waiting for system resources {dict(requirements)}")
                told = True
            await self._changed.wait()

    def release(self, requirements: Requirements) -> None:
        """Give back what `acquire` took and wake the waiters."""
        if not self._capacity:
            return
        for name, amount in requirements.items():
            self._available[name] += amount
        self._changed.notify()
