"""`python -m bench capacity`: what N agents need, from the costs a suite measured over MQTT.

Reads a suite (default `results/latest.json`) and the run documents behind it, takes the
costs of one mode's MQTT runs (bench/capacity.py, the model and its formulas), and prints
the plan: worker processes and hosts, the broker's message rates and cores, and whether one
mosquitto can carry it; then how many agents this machine should carry, beside what the
suite measured. `--out FILE` also writes the plan as JSON (atomically).

Its note on the broker cites why one mosquitto is one core: mosquitto is single-threaded
(https://github.com/eclipse-mosquitto/mosquitto/issues/2105,
https://github.com/eclipse-mosquitto/mosquitto/issues/817).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.capacity import (
    EMQX_VENDOR,
    KEPT_UP,
    MOSQUITTO_SOURCES,
    SCALE_ADVICE,
    Costs,
    Plan,
    check_inputs,
    costs_from_documents,
    plan,
    predict_max_agents,
)
from bench.errors import BenchError
from bench.report.data import load_suite
from bench.report.layouts import ScaleRow, scale_table
from bench.result_file import check_writable, write_json_atomic
from bench.suite.layout import Layout, column_key, tag_words
from bench.workload import get_mode

DEFAULT_SUITE = Path("results/latest.json")


@dataclass(frozen=True, slots=True)
class CapacityOptions:
    """The command line of `bench capacity`."""

    agents: int
    period: float = 5.0
    suite: Path = DEFAULT_SUITE
    mode: str = "shared"
    cores_per_host: int = 2
    utilisation: float = 0.7
    out: Path | None = None
    quiet: bool = False


def capacity_command(options: CapacityOptions) -> int:
    """Print (and with --out write) the plan; 0 when done (bad or missing input raises
    BenchError: exit status 2)."""
    check_inputs(options.agents, options.period, options.utilisation, options.cores_per_host)
    get_mode(options.mode)
    if options.out is not None:
        check_writable(options.out)
    suite = load_suite(options.suite)
    if not suite.documents:
        raise BenchError(
            f"the capacity model reads the run documents of {options.suite}, which were not "
            f"found ({'; '.join(suite.notes) or 'no runs'}): {SCALE_ADVICE}"
        )
    costs = costs_from_documents(suite.documents, options.mode)
    found = plan(
        costs,
        options.agents,
        options.period,
        cores_per_host=options.cores_per_host,
        utilisation=options.utilisation,
    )
    cores = costs.cores or 2
    machine_max = predict_max_agents(
        costs, cores, utilisation=options.utilisation, period=options.period
    )
    measured = _measured(suite.documents, suite.columns, costs)
    console = Console(quiet=options.quiet, highlight=False)
    console.print(_table(costs, found))
    for sentence in sentences(costs, found, machine_max, cores, measured):
        console.print(escape(sentence), soft_wrap=True)  # a URL stays whole, copyable
    if options.out is not None:
        document = {
            "suite": str(options.suite),
            "costs": costs.as_dict(),
            "plan": found.as_dict(),
            "machine": {"cores": cores, "max_agents": machine_max},
            "sources": {"mosquitto_single_threaded": list(MOSQUITTO_SOURCES)},
        }
        write_json_atomic(options.out, document)
        console.print(f"plan written to {escape(str(options.out))}")
    return 0


def _kept_up(costs: Costs) -> str:
    if costs.kept_up is None:
        return "the largest size measured; no virtual-clock reference to judge it by"
    if costs.kept_up:
        return f"the largest size that kept up, ≥ {KEPT_UP:.0%} of the physics' flashes"
    return (
        f"no size kept up (≥ {KEPT_UP:.0%} of the physics' flashes): the smallest, whose "
        "costs understate the work"
    )


def sentences(
    costs: Costs, found: Plan, machine_max: int, cores: int, measured: ScaleRow | None
) -> list[str]:
    """The plan in words: inputs, workers, the broker (and when it needs a cluster), this
    machine."""
    where = "one process" if costs.workers is None else f"{costs.workers} worker processes"
    busy = f"{found.utilisation:.0%} busy"
    said = [
        f"Costs: {costs.runs} MQTT runs of {costs.mode} at {costs.agents:,} agents ({where}, "
        f"period {costs.period:g} s; {_kept_up(costs)}): "
        f"{costs.cpu_per_agent_s * 1e6:,.1f} µs of worker CPU per "
        f"agent-second, {costs.flashes_per_agent_s:.4f} flashes per agent-second, "
        f"{costs.messages_per_flash:.2f} messages per flash, broker fan-out "
        f"{costs.fan_out:.2f}{'' if costs.fan_out_measured else ' (not measured: assumed)'}, "
        + (
            f"{costs.broker_cpu_us_per_message:.2f} µs of broker CPU per message"
            if costs.broker_cpu_us_per_message
            else "broker CPU not measured (the suite did not start its broker)"
        )
        + (
            f"; delivery p99 {costs.delivery_p99_ms:,.2f} ms (as measured, not projected)."
            if costs.delivery_p99_ms is not None
            else "."
        ),
        f"{found.agents:,} agents at period {found.period:g} s keep {found.worker_cores:,.2f} "
        f"cores busy: {found.worker_processes:,} worker processes (one per core, {busy}) on "
        f"{found.hosts:,} hosts of {found.cores_per_host} cores.",
        f"The broker takes {found.messages_in_per_s:,.0f} messages per second in and sends "
        f"{found.messages_out_per_s:,.0f} out.",
    ]
    said += _broker_sentences(found)
    said.append(
        f"This machine ({cores} cores, workers and broker sharing them, {busy}) should carry "
        f"about {machine_max:,} agents at period {found.period:g} s"
        + (f"; {_measured_words(measured, cores)}." if measured else ".")
    )
    return said


def _broker_sentences(found: Plan) -> list[str]:
    if found.broker_cores is None or found.broker_nodes is None:
        return [
            "The broker's cores are not known: its CPU is measured only when the harness "
            "starts it (--broker auto, as the scale profile does)."
        ]
    sources = " and ".join(MOSQUITTO_SOURCES)
    single = (
        f" (one mosquitto carries at most {found.single_broker_max_agents:,} agents at "
        f"{found.utilisation:.0%})"
        if found.single_broker_max_agents
        else ""
    )
    if not found.broker_limited:
        return [
            f"It needs {found.broker_cores:.2f} broker cores: one mosquitto carries it"
            f"{single}. mosquitto is single-threaded, one core per broker (see {sources})."
        ]
    vendor, url = EMQX_VENDOR
    return [
        f"It needs {found.broker_cores:.2f} broker cores: more than one core's worth at "
        f"{found.utilisation:.0%}{single}, and mosquitto is single-threaded, one core per "
        f"broker (see {sources}). The broker is the limit: it needs a broker cluster (EMQX, "
        f"or NATS with MQTT) of {found.broker_nodes:,} nodes, each one core's worth at "
        f"{found.utilisation:.0%}, if a node costs per message what mosquitto did here.",
        f"{vendor} ({url}).",
    ]


def _measured(
    documents: list[dict[str, Any]], columns: tuple[str, ...], costs: Costs
) -> ScaleRow | None:
    """The suite's row of the largest MQTT configuration of the mode, for comparison."""
    table = scale_table(documents, columns)
    if table is None:
        return None
    tag = Layout("mqtt", costs.workers).tag
    rows = [row for row in table.rows if row.column == column_key(costs.mode, tag)]
    return max(rows, key=lambda row: row.agents, default=None)


def _measured_words(row: ScaleRow, cores: int) -> str:
    parts = [f"the suite measured {row.agents:,} agents ({tag_words(row.tag)})"]
    busy = (row.cores or 0.0) + (row.broker_cores or 0.0)
    if row.cores is not None:
        parts.append(f"{busy:.2f} of its {cores} cores busy, workers and broker together")
    if row.of_reference is not None:
        parts.append(f"{row.of_reference:.1%} of the physics' flashes per second")
    return ", ".join(parts)


def _table(costs: Costs, found: Plan) -> Table:
    table = Table(
        title=f"Capacity plan: {found.agents:,} agents of {costs.mode}, period {found.period:g} s",
        title_justify="left",
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    broker = "-" if found.broker_cores is None else f"{found.broker_cores:,.2f}"
    nodes = "-" if found.broker_nodes is None else f"{found.broker_nodes:,}"
    rows = [
        ("worker cores busy", f"{found.worker_cores:,.2f}"),
        (f"worker processes ({found.utilisation:.0%} busy each)", f"{found.worker_processes:,}"),
        (f"hosts of {found.cores_per_host} cores", f"{found.hosts:,}"),
        ("flashes per second", f"{found.flashes_per_s:,.0f}"),
        ("broker messages in per second", f"{found.messages_in_per_s:,.0f}"),
        ("broker messages out per second", f"{found.messages_out_per_s:,.0f}"),
        ("broker cores", broker),
        ("broker nodes (1 = one mosquitto)", nodes),
        ("broker is the limit", "yes" if found.broker_limited else "no"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
