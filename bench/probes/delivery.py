"""Delivery latency: publish to the subscriber's callback, from a send time in the message.

The probe wraps a connector: every publish carries `[sent_at, payload]` (wall-clock
seconds, `time.time()`), every delivery records `now - sent_at` and hands the callback the
payload alone. Publisher and subscriber may be different processes on one machine, which
share the clock; across machines the figure includes their clocks' offset (NTP keeps it to
about a millisecond). The histogram is kept encoded in the result so that the documents of
several worker processes merge into one distribution (`merge_encoded`).
"""

from __future__ import annotations

import time
from typing import Any

from hdrh.histogram import HdrHistogram

from bench.probes.base import Probe, ProbeResult
from bench.probes.latency import HIGHEST_SECONDS, ms, new_histogram
from cascade.connectors.base import Connector, MessageCallback, Subscription

_KEYS = ("count", "p50_ms", "p99_ms", "max_ms", "mean_ms")


class DeliveryProbe(Probe):
    """Records the latency of every message delivered through the connector it wrapped."""

    name = "delivery"
    timing = True

    def __init__(self) -> None:
        self.histogram = new_histogram()

    def wrap(self, connector: Connector) -> Connector:
        """The connector to hand the workload: same protocol, messages stamped and timed."""
        return _Stamped(connector, self.histogram)

    def result(self) -> ProbeResult:
        """Count, p50/p99/max/mean in ms, and the encoded histogram for merging."""
        return ProbeResult(
            metrics=summarise(self.histogram),
            series={"delivery_histogram": self.histogram.encode().decode("ascii")},
        )


def summarise(histogram: HdrHistogram) -> dict[str, Any]:
    """The `metrics.delivery` block of a histogram of microseconds (None when empty)."""
    count = histogram.get_total_count()
    if not count:
        return {"count": 0, **dict.fromkeys(_KEYS[1:])}
    return {
        "count": count,
        "p50_ms": ms(histogram.get_value_at_percentile(50.0)),
        "p99_ms": ms(histogram.get_value_at_percentile(99.0)),
        "max_ms": ms(histogram.get_max_value()),
        "mean_ms": ms(histogram.get_mean_value()),
    }


def merge_encoded(encoded: list[str]) -> HdrHistogram:
    """One histogram from several `series.delivery_histogram` strings."""
    merged = new_histogram()
    for text in encoded:
        merged.add(HdrHistogram.decode(text.encode("ascii")))
    return merged


class _Stamped:
    """A connector that stamps what it publishes and times what it delivers."""

    def __init__(self, inner: Connector, histogram: HdrHistogram) -> None:
        self._inner = inner
        self._record = histogram.record_value
        self._highest = round(HIGHEST_SECONDS * 1e6)  # new_histogram's range, in µs

    async def connect(self) -> None:
        """Connect the wrapped connector."""
        await self._inner.connect()

    async def disconnect(self) -> None:
        """Disconnect the wrapped connector."""
        await self._inner.disconnect()

    async def publish(self, topic: str, payload: Any, retain: bool = False) -> int:
        """Publish `[now, payload]`."""
        return await self._inner.publish(topic, (time.time(), payload), retain)

    async def subscribe(self, topic_filter: str, callback: MessageCallback) -> Subscription:
        """Subscribe so that `callback` gets the payload and the latency is recorded."""
        record, highest = self._record, self._highest

        async def timed(topic: str, stamped: Any) -> None:
            sent, payload = stamped
            record(min(max(1, round((time.time() - sent) * 1e6)), highest))
            await callback(topic, payload)

        return await self._inner.subscribe(topic_filter, timed)
