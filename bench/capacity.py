"""The capacity model: what N agents need, from what a suite measured over MQTT (pure).

Inputs (`Costs`, from `costs_from_documents`): the suite's MQTT runs of one mode at the
largest size that kept up with the physics (at least KEPT_UP of the flashes per second of
the suite's virtual-clock run of that size; the largest size when the suite has no such
reference), in the layout with the most worker processes there (the one closest to a
deployment), medians over the repeats:

- CPU per agent-second of the workers: `cpu.cpu_s / work.agents / work.run_s`, all
  workers' CPU summed (a sharded run's `metrics.cpu`), in cores per agent;
- flashes per agent-second, `work.flashes / work.agents / work.run_s`, and messages per
  flash, `transport.published / work.flashes` (8 inboxes and `firefly/flash`: 9);
- the broker's fan-out, `broker.messages_out_per_s / broker.messages_in_per_s` (its `$SYS`
  totals: messages to topics nobody listens on are not sent out), 1 when not measured;
- the broker's CPU per message, `broker.cpu_us_per_message` (measured only when the harness
  started mosquitto itself), and the delivery p99 (reported, not projected).

The plan for N agents at period P, with s = P_measured / P (every rate of the swarm comes
once per cycle, so all of them scale with 1/P) and u the target utilisation:

    worker cores      = N x cpu_per_agent_s x s
    worker processes  = ceil(worker cores / u)        (one asyncio process per core)
    hosts             = ceil(worker processes / cores per host)
    broker in  (1/s)  = N x flashes_per_agent_s x s x messages_per_flash
    broker out (1/s)  = broker in x fan-out
    broker cores      = (in + out) x cpu_us_per_message / 1e6
    broker nodes      = ceil(broker cores / u)

mosquitto is single-threaded: one broker process uses one core at most, so a broker that
needs more than u of one core needs a cluster (EMQX, or NATS with its MQTT gateway) of
`broker nodes` nodes. Sources, from mosquitto's own issue tracker (its website has no FAQ
entry on threads): https://github.com/eclipse-mosquitto/mosquitto/issues/2105 (the
maintainer, asked how to use more than the one core a single-threaded mosquitto uses,
advises running several instances) and
https://github.com/eclipse-mosquitto/mosquitto/issues/817 (a project member: the broker
works on one CPU). EMQX's own per-node figure (EMQX_VENDOR) is a vendor figure, quoted
with its source, never measured here.

`predict_max_agents(costs, cores)`: the largest N one machine carries, workers and broker
sharing its `cores` at utilisation u: N x (worker + broker cores per agent) <= cores x u,
and the broker's share <= u (one core).

A linear model: CPU per agent-second measured at one size is taken for every size (it
falls somewhat with size as fixed costs spread; measure near the size you plan for).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import BenchError
from bench.schema import status_of
from bench.stats import median_mad
from bench.suite.layout import document_clock, document_layout

KEPT_UP = 0.95
"""A size kept up when its runs made this share of the physics' flashes per second: an
overloaded swarm does less work per agent, and its CPU per agent-second understates it."""
SMALLEST_SWARM = 9
"""A 3x3 grid: the smallest swarm the workload runs."""
SCALE_ADVICE = "measure them with `make bench BENCH_PROFILE=scale`"
MOSQUITTO_SOURCES = (
    "https://github.com/eclipse-mosquitto/mosquitto/issues/2105",
    "https://github.com/eclipse-mosquitto/mosquitto/issues/817",
)
"""mosquitto runs its broker on one thread, one core: in #2105 a user asks how to use the
other cores of a host "since mosquitto is single-thread thus using only one core", and the
maintainer (Roger Light) answers to run several instances, which the operating system
spreads over the cores; in #817 a project member answers that the broker works on one CPU."""
EMQX_VENDOR = (
    "EMQX's own benchmark (vendor figure, not measured here): one EMQX 5.0.21 node on a "
    "64-core, 128 GB host forwarded 2,000,000 QoS-0 messages per second (16-byte payloads, "
    "20 publishers, 1,000 wildcard subscribers)",
    "https://github.com/emqx/blog/blob/main/en/202308/"
    "mqtt-performance-benchmark-testing-emqx-single-node-supports-2m-message-throughput.md",
)
_USABLE = ("complete", "degraded")
"""Runs whose costs count: a failed or interrupted run measured a part of its swarm."""


@dataclass(frozen=True, slots=True)
class Costs:
    """What the suite measured of one mode over MQTT, per agent: the model's inputs."""

    mode: str
    agents: int
    """The size the costs were measured at."""
    workers: int | None
    """The worker processes of that layout (None = one process)."""
    runs: int
    period: float
    """The period (s) the runs had; a plan for another period scales every rate."""
    cpu_per_agent_s: float
    """Workers' CPU seconds per agent per second of run: cores per agent."""
    flashes_per_agent_s: float
    messages_per_flash: float
    fan_out: float
    """Broker messages out per message in (1.0 when the broker's rates were not measured)."""
    fan_out_measured: bool
    broker_cpu_us_per_message: float | None
    """None: the suite's runs used a broker the harness did not start (no CPU measured)."""
    delivery_p99_ms: float | None
    cores: int | None
    """Cores of the machine that measured them (the runs' `meta.cores`)."""
    kept_up: bool | None = None
    """Whether those runs made at least KEPT_UP of the physics' flashes (the suite's
    virtual-clock run of that size); None without one. False: no size kept up."""

    def as_dict(self) -> dict[str, Any]:
        """The costs as JSON."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Plan:
    """What `agents` agents at `period` need, at the target utilisation."""

    agents: int
    period: float
    utilisation: float
    cores_per_host: int
    worker_cores: float
    worker_processes: int
    hosts: int
    flashes_per_s: float
    messages_in_per_s: float
    messages_out_per_s: float
    broker_cores: float | None
    broker_nodes: int | None
    """ceil(broker cores / utilisation): 1 while one mosquitto carries it; None unmeasured."""
    broker_limited: bool
    """The broker needs more than `utilisation` of one core: one mosquitto cannot carry it."""
    single_broker_max_agents: int | None
    """The most agents one single-threaded broker carries at the target utilisation."""

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON."""
        return asdict(self)


def check_inputs(
    agents: int, period: float, utilisation: float, cores_per_host: int = 1, cores: int = 1
) -> None:
    """Refuse a bad input (BenchError, one line naming the option)."""
    if agents < SMALLEST_SWARM:
        raise BenchError(f"--agents must be at least {SMALLEST_SWARM} (a 3x3 grid), got {agents}")
    if not (math.isfinite(period) and period > 0):
        raise BenchError(f"--period must be a number of seconds > 0, got {period}")
    if not (math.isfinite(utilisation) and 0 < utilisation <= 1):
        raise BenchError(f"--utilisation must be in (0, 1] (0.7 = 70% busy), got {utilisation}")
    if cores_per_host < 1:
        raise BenchError(f"--cores-per-host must be at least 1, got {cores_per_host}")
    if cores < 1:
        raise BenchError(f"cores must be at least 1, got {cores}")


def plan(
    costs: Costs,
    agents: int,
    period: float,
    *,
    cores_per_host: int = 2,
    utilisation: float = 0.7,
) -> Plan:
    """The plan for `agents` agents at `period` (see the module's formulas)."""
    check_inputs(agents, period, utilisation, cores_per_host)
    speed = costs.period / period
    worker_cores = agents * costs.cpu_per_agent_s * speed
    processes = max(1, math.ceil(_round(worker_cores / utilisation)))
    flashes = agents * costs.flashes_per_agent_s * speed
    messages_in = flashes * costs.messages_per_flash
    messages_out = messages_in * costs.fan_out
    per_agent = broker_cores_per_agent(costs) * speed if costs.broker_cpu_us_per_message else None
    broker = None if per_agent is None else agents * per_agent
    return Plan(
        agents=agents,
        period=period,
        utilisation=utilisation,
        cores_per_host=cores_per_host,
        worker_cores=worker_cores,
        worker_processes=processes,
        hosts=math.ceil(processes / cores_per_host),
        flashes_per_s=flashes,
        messages_in_per_s=messages_in,
        messages_out_per_s=messages_out,
        broker_cores=broker,
        broker_nodes=None if broker is None else max(1, math.ceil(_round(broker / utilisation))),
        broker_limited=broker is not None and _round(broker) > utilisation,
        single_broker_max_agents=(
            None if not per_agent else math.floor(_round(utilisation / per_agent))
        ),
    )


def broker_cores_per_agent(costs: Costs) -> float:
    """Broker cores one agent costs at the measured period (0 when its CPU is unmeasured)."""
    if not costs.broker_cpu_us_per_message:
        return 0.0
    messages = costs.flashes_per_agent_s * costs.messages_per_flash * (1 + costs.fan_out)
    return messages * costs.broker_cpu_us_per_message / 1e6


def predict_max_agents(
    costs: Costs, cores: int = 2, *, utilisation: float = 0.7, period: float | None = None
) -> int:
    """The largest N one machine of `cores` carries, workers and broker sharing its cores at
    `utilisation`, the broker on one core at most (it is single-threaded)."""
    period = costs.period if period is None else period
    check_inputs(SMALLEST_SWARM, period, utilisation, cores=cores)
    speed = costs.period / period
    worker, broker = costs.cpu_per_agent_s * speed, broker_cores_per_agent(costs) * speed
    limits = [cores * utilisation / (worker + broker)] if worker + broker > 0 else []
    if broker > 0:
        limits.append(utilisation / broker)
    if not limits:
        raise BenchError("the suite's runs measured no CPU: nothing to predict from")
    return math.floor(_round(min(limits)))


def costs_from_documents(documents: Sequence[dict[str, Any]], mode: str) -> Costs:
    """The model's inputs from a suite's run documents (see the module's docstring).

    BenchError, naming `make bench BENCH_PROFILE=scale`, when the suite has no usable
    MQTT run of `mode`.
    """
    mqtt = [
        d
        for d in documents
        if d["config"]["mode"] == mode
        and document_layout(d).transport == "mqtt"
        and document_clock(d) == "real"
    ]
    usable = [d for d in mqtt if status_of(d) in _USABLE]
    if not usable:
        found = f"{len(mqtt)} MQTT runs of {mode}, none complete" if mqtt else "no MQTT run"
        raise BenchError(
            f"the capacity model needs the costs of MQTT runs of mode {mode}, and the suite has "
            f"{found}: {SCALE_ADVICE}"
        )
    references = _reference_flashes(documents)
    kept_up: bool | None = None
    for agents in sorted({int(d["config"]["agents"]) for d in usable}, reverse=True):
        at_size = [d for d in usable if int(d["config"]["agents"]) == agents]
        workers = max((document_layout(d).workers or 0 for d in at_size), default=0) or None
        runs = [d for d in at_size if document_layout(d).workers == workers]
        share = _ratio(_median([_get(d, "work", "flashes_per_s") for d in runs]),
                       references.get(agents))  # fmt: skip
        kept_up = None if share is None else share >= KEPT_UP
        if kept_up is not False:
            break  # the largest size that kept up (or that no reference can judge)
    cpu = _median([_ratio(_get(d, "cpu", "cpu_s"), _agent_seconds(d)) for d in runs])
    flashes = _median([_ratio(_get(d, "work", "flashes"), _agent_seconds(d)) for d in runs])
    per_flash = _median([_ratio(_published(d), _get(d, "work", "flashes")) for d in runs])
    if cpu is None or flashes is None or per_flash is None:
        raise BenchError(
            f"the MQTT runs of {mode} at {agents:,} agents lack cpu.cpu_s, work.flashes, "
            f"work.messages or work.run_s: {SCALE_ADVICE}"
        )
    fan_out = _median(
        [_ratio(_get(d, "broker", "messages_out_per_s"), _get(d, "broker", "messages_in_per_s"))
         for d in runs]
    )  # fmt: skip
    return Costs(
        mode=mode,
        agents=agents,
        workers=workers,
        runs=len(runs),
        period=float(runs[0]["config"].get("period") or 5.0),
        cpu_per_agent_s=cpu,
        flashes_per_agent_s=flashes,
        messages_per_flash=per_flash,
        fan_out=1.0 if fan_out is None else fan_out,
        fan_out_measured=fan_out is not None,
        broker_cpu_us_per_message=_median([_get(d, "broker", "cpu_us_per_message") for d in runs]),
        delivery_p99_ms=_median([_get(d, "delivery", "p99_ms") for d in runs]),
        cores=_cores(runs),
        kept_up=kept_up,
    )


def _reference_flashes(documents: Sequence[dict[str, Any]]) -> dict[int, float]:
    """Flashes per second of the suite's virtual-clock runs, by size: the physics' own."""
    by_size: dict[int, list[float | None]] = {}
    for document in documents:
        if document_clock(document) != "real":
            by_size.setdefault(int(document["config"]["agents"]), []).append(
                _get(document, "work", "flashes_per_s")
            )
    medians = {agents: _median(values) for agents, values in by_size.items()}
    return {agents: value for agents, value in medians.items() if value}


def _get(document: dict[str, Any], block: str, key: str) -> float | None:
    value = document.get("metrics", {}).get(block, {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _published(document: dict[str, Any]) -> float | None:
    """Messages the workers sent the broker: `transport.published`, else the inbox messages
    and one `firefly/flash` message per flash."""
    published = _get(document, "transport", "published")
    if published is not None:
        return published
    messages, flashes = _get(document, "work", "messages"), _get(document, "work", "flashes")
    return None if messages is None or flashes is None else messages + flashes


def _agent_seconds(document: dict[str, Any]) -> float | None:
    agents = _get(document, "work", "agents") or float(document["config"]["agents"])
    run_s = _get(document, "work", "run_s")
    return None if run_s is None else agents * run_s


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return median_mad(present)[0] if present else None


def _cores(documents: Sequence[dict[str, Any]]) -> int | None:
    cores = documents[0].get("meta", {}).get("cores")
    return cores if isinstance(cores, int) and not isinstance(cores, bool) else None


def _round(value: float) -> float:
    # 2.0000000000000004 / 0.7 rounding up to a needless process: 12 digits are plenty.
    return round(value, 9)
