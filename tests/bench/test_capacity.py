"""The capacity model (bench/capacity.py) and `python -m bench capacity`.

Hand-made costs: 1 ms of worker CPU per agent-second (0.001 cores per agent), 0.2 flashes
per agent-second (period 5 s), 8 messages per flash, fan-out 0.75, 5 µs of broker CPU per
message. So 100,000 agents keep 100 worker cores busy and send the broker 160,000 messages
a second, 120,000 out again: 280,000 x 5 µs = 1.4 broker cores.
"""

import json
import math

import pytest

from bench.capacity import (
    EMQX_VENDOR,
    MOSQUITTO_SOURCES,
    Costs,
    broker_cores_per_agent,
    costs_from_documents,
    plan,
    predict_max_agents,
)
from bench.cli import main
from bench.errors import BenchError

COSTS = Costs(
    mode="shared",
    agents=22500,
    workers=2,
    runs=3,
    period=5.0,
    cpu_per_agent_s=0.001,
    flashes_per_agent_s=0.2,
    messages_per_flash=8.0,
    fan_out=0.75,
    fan_out_measured=True,
    broker_cpu_us_per_message=5.0,
    delivery_p99_ms=2.5,
    cores=2,
)


def test_the_plan_for_100000_agents_by_hand():
    found = plan(COSTS, 100_000, 5.0, cores_per_host=2, utilisation=0.7)
    assert found.worker_cores == pytest.approx(100.0)  # 100,000 x 0.001
    assert found.worker_processes == 143  # ceil(100 / 0.7) = ceil(142.86)
    assert found.hosts == 72  # ceil(143 / 2)
    assert found.flashes_per_s == pytest.approx(20_000.0)  # 100,000 x 0.2
    assert found.messages_in_per_s == pytest.approx(160_000.0)  # x 8 per flash
    assert found.messages_out_per_s == pytest.approx(120_000.0)  # x 0.75
    assert found.broker_cores == pytest.approx(1.4)  # 280,000 x 5 µs
    assert found.broker_limited  # 1.4 cores > 0.7 of one core
    assert found.broker_nodes == 2  # ceil(1.4 / 0.7): exactly 2, no float round-up to 3
    assert found.single_broker_max_agents == 50_000  # 0.7 / (0.2 x 8 x 1.75 x 5e-6)
    assert json.loads(json.dumps(found.as_dict()))["hosts"] == 72


def test_a_longer_period_slows_every_rate():
    found = plan(COSTS, 100_000, 10.0, cores_per_host=4, utilisation=0.7)
    assert found.worker_cores == pytest.approx(50.0)
    assert found.worker_processes == 72  # ceil(50 / 0.7) = ceil(71.4)
    assert found.hosts == 18  # ceil(72 / 4)
    assert found.messages_in_per_s == pytest.approx(80_000.0)
    assert found.broker_cores == pytest.approx(0.7)
    assert not found.broker_limited and found.broker_nodes == 1  # exactly one core's worth
    assert found.single_broker_max_agents == 100_000


def test_full_utilisation_and_small_swarms():
    found = plan(COSTS, 9, 5.0, cores_per_host=1, utilisation=1.0)
    assert found.worker_processes == 1 and found.hosts == 1
    assert found.broker_nodes == 1 and not found.broker_limited


def test_unmeasured_broker_cpu_leaves_the_broker_unknown():
    costs = Costs(**{**COSTS.as_dict(), "broker_cpu_us_per_message": None})
    found = plan(costs, 100_000, 5.0)
    assert found.broker_cores is None and found.broker_nodes is None
    assert not found.broker_limited and found.single_broker_max_agents is None
    assert broker_cores_per_agent(costs) == 0.0
    # workers only: 2 cores x 0.7 / 0.001
    assert predict_max_agents(costs, 2) == 1400


def test_the_most_agents_one_machine_carries():
    # workers 0.001 + broker 0.000014 cores per agent share 2 x 0.7 cores: 1,380.67
    assert broker_cores_per_agent(COSTS) == pytest.approx(1.4e-5)
    assert predict_max_agents(COSTS, 2) == math.floor(1.4 / 0.001014) == 1380
    assert predict_max_agents(COSTS, 4, utilisation=0.5) == math.floor(2.0 / 0.001014)
    # a broker-bound machine: the single-threaded broker caps it at one core
    heavy = Costs(**{**COSTS.as_dict(), "cpu_per_agent_s": 1e-7})
    assert predict_max_agents(heavy, 64) == 50_000  # 0.7 / 1.4e-5, not 64 x 0.7 / ...


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plan(COSTS, 8, 5.0), "--agents must be at least 9 (a 3x3 grid), got 8"),
        (lambda: plan(COSTS, 100, 0.0), "--period must be a number of seconds > 0, got 0.0"),
        (
            lambda: plan(COSTS, 100, 5.0, utilisation=1.5),
            "--utilisation must be in (0, 1] (0.7 = 70% busy), got 1.5",
        ),
        (
            lambda: plan(COSTS, 100, 5.0, cores_per_host=0),
            "--cores-per-host must be at least 1, got 0",
        ),
        (lambda: predict_max_agents(COSTS, 0), "cores must be at least 1, got 0"),
    ],
)
def test_bad_inputs_are_refused(call, message):
    with pytest.raises(BenchError) as raised:
        call()
    assert str(raised.value) == message


def test_the_costs_come_from_the_most_sharded_mqtt_runs_at_the_largest_size(
    scale_run_document,
):
    documents = [
        scale_run_document(mode, agents, tag, repeat)
        for mode in ("shared", "raw")
        for agents in (16, 36)
        for tag in ("", "mqtt-1w", "mqtt-2w")
        for repeat in range(3)
    ]
    documents.append(scale_run_document("shared", 64, "", 1))  # local only: not a cost
    costs = costs_from_documents(documents, "shared")
    assert (costs.agents, costs.workers, costs.runs, costs.period) == (36, 2, 3, 5.0)
    assert costs.cpu_per_agent_s == pytest.approx(0.001)  # the median of 0.9, 1.0, 1.2
    assert costs.flashes_per_agent_s == pytest.approx(0.25 * 0.8)
    assert costs.messages_per_flash == pytest.approx(8.0)
    assert costs.fan_out == pytest.approx(0.75) and costs.fan_out_measured
    assert costs.broker_cpu_us_per_message == 5.0
    assert (costs.delivery_p99_ms, costs.cores) == (2.5, 2)


def with_share(document, share):
    """The document with its flashes per second at `share` of the synthetic reference."""
    work = document["metrics"]["work"]
    work["flashes_per_s"] = document["config"]["agents"] * 0.25 * share
    return document


@pytest.mark.parametrize(
    ("shares", "references", "agents", "kept_up"),
    [
        ({16: 0.97, 36: 0.90}, True, 16, True),  # 36 fell behind: its costs understate
        ({16: 0.97, 36: 0.96}, True, 36, True),
        ({16: 0.80, 36: 0.90}, True, 16, False),  # none kept up: the smallest, said so
        ({16: 0.97, 36: 0.90}, False, 36, None),  # no reference: the largest
    ],
    ids=["largest-fell-behind", "all-kept-up", "none-kept-up", "no-reference"],
)
def test_the_costs_come_from_the_largest_size_that_kept_up_with_the_physics(
    scale_run_document, shares, references, agents, kept_up
):
    documents = [
        with_share(scale_run_document("shared", size, "mqtt-2w", repeat), shares[size])
        for size in (16, 36)
        for repeat in range(3)
    ]
    if references:
        documents += [scale_run_document("raw", size, "virtual") for size in (16, 36)]
    costs = costs_from_documents(documents, "shared")
    assert (costs.agents, costs.kept_up) == (agents, kept_up)


def test_failed_runs_do_not_count_and_no_mqtt_run_names_the_scale_profile(scale_run_document):
    local = [scale_run_document("shared", 16, "", 1)]
    with pytest.raises(BenchError) as raised:
        costs_from_documents(local, "shared")
    assert str(raised.value) == (
        "the capacity model needs the costs of MQTT runs of mode shared, and the suite has no "
        "MQTT run: measure them with `make bench BENCH_PROFILE=scale`"
    )
    failed = [scale_run_document("shared", 16, "mqtt-2w", 1, status="failed")]
    with pytest.raises(BenchError, match="1 MQTT runs of shared, none complete"):
        costs_from_documents(failed, "shared")


def test_the_command_prints_the_plan_and_writes_it(
    scale_suite_writer, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")
    suite = scale_suite_writer(tmp_path)
    out = tmp_path / "plan" / "plan.json"
    args = ["capacity", "--agents", "100000", "--period", "5", "--suite", str(suite)]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "│ worker processes (70% busy each) │     143 │" in printed
    assert "143 worker processes (one per core, 70% busy) on 72 hosts of 2 cores" in printed
    assert "The broker takes 160,000 messages per second in and sends 120,000 out." in printed
    assert "It needs 1.40 broker cores: more than one core's worth at 70%" in printed
    assert "broker cluster (EMQX, or NATS with MQTT) of 2 nodes" in printed
    for url in (*MOSQUITTO_SOURCES, EMQX_VENDOR[1]):
        assert url in printed  # whole, not wrapped
    assert "vendor figure, not measured here" in printed
    assert "should carry about 1,380 agents" in printed
    assert "the suite measured 36 agents (mqtt, 2 workers)" in printed
    plan_file = json.loads(out.read_text())
    assert plan_file["plan"]["worker_processes"] == 143
    assert plan_file["costs"]["cpu_per_agent_s"] == pytest.approx(0.001)
    assert plan_file["machine"] == {"cores": 2, "max_agents": 1380}
    assert not list(out.parent.glob(".*"))  # written atomically: no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "4"], "error: --agents must be at least 9 (a 3x3 grid), got 4"),
        (["--agents", "100", "--period", "0"], "error: --period must be a number of seconds"),
        (["--agents", "100", "--period", "-1"], "error: --period must be a number of seconds"),
        (["--agents", "100", "--utilisation", "0"], "error: --utilisation must be in (0, 1]"),
        (["--agents", "100", "--utilisation", "1.2"], "error: --utilisation must be in (0, 1]"),
        (["--agents", "100", "--cores-per-host", "0"], "error: --cores-per-host must be at"),
        (["--agents", "100", "--mode", "turbo"], "error: unknown mode 'turbo'"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, message, capsys, tmp_path):
    assert main(["capacity", *args, "--suite", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_a_suite_without_mqtt_runs_exits_2_naming_the_scale_profile(
    tmp_path, capsys, scale_run_document, scale_suite_writer
):
    documents = [scale_run_document(m, 16, "", r) for m in ("shared", "raw") for r in range(2)]
    suite = scale_suite_writer(tmp_path, documents)
    assert main(["capacity", "--agents", "100000", "--suite", str(suite)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make bench BENCH_PROFILE=scale" in err


def test_a_missing_suite_exits_2(tmp_path, capsys):
    assert main(["capacity", "--agents", "100", "--suite", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read suite")


def test_messages_per_flash_count_what_reached_the_broker_or_else_inboxes_and_the_flash():
    from bench.capacity import _published

    work = {"work": {"messages": 80.0, "flashes": 10.0}}
    assert _published({"metrics": {**work, "transport": {"published": 91}}}) == 91.0
    assert _published({"metrics": work}) == 90.0  # 8 inboxes and firefly/flash per flash
    assert _published({"metrics": {}}) is None
