import asyncio

import pytest

from bench.workload import make_config
from bench.workload.physics import Action, Agent, Tally, advance, flash, listen, plan
from bench.workload.topology import FLASH_TOPIC
from cascade.connectors.local import LocalBusConnector

CONFIG = make_config(agents=9, period=5.0, nudge=0.2)


def _agent(phase: float, now: float = 100.0) -> Agent:
    agent = Agent(4, CONFIG, Tally())
    agent.cycle_start = now - phase
    return agent


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (0.25, (Action.WAIT, 0.75)),
        (1.0, (Action.LISTEN, 4.0)),
        (4.5, (Action.LISTEN, 0.5)),
        (5.0, (Action.FLASH, 0.0)),
        (7.0, (Action.FLASH, 0.0)),
    ],
)
def test_plan_follows_the_phase(phase, expected):
    action, seconds = plan(_agent(phase), CONFIG, 100.0)
    assert action is expected[0] and seconds == pytest.approx(expected[1])


def test_a_signal_jumps_the_phase_by_the_nudge():
    agent = _agent(2.0)
    advance(agent, CONFIG, Action.LISTEN, {"signal": 1, "timeout": False, "elapsed": 0.5}, 100.0)
    assert 100.0 - agent.cycle_start == pytest.approx(2.2)
    assert (agent.tally.signals, agent.tally.steps) == (1, 1)


def test_a_timeout_always_leads_to_a_flash_even_a_hair_early():
    agent = _agent(5.0 - 1e-9)
    advance(agent, CONFIG, Action.LISTEN, {"signal": None, "timeout": True, "elapsed": 4.0}, 100.0)
    assert plan(agent, CONFIG, 100.0)[0] is Action.FLASH


def test_a_finished_wait_ends_the_refractory_part_even_a_hair_early():
    agent = _agent(1.0 - 1e-10)
    advance(agent, CONFIG, Action.WAIT, None, 100.0)
    assert plan(agent, CONFIG, 100.0)[0] is Action.LISTEN


def test_a_flash_restarts_the_phase_within_the_jitter():
    agent = _agent(5.0)
    advance(agent, CONFIG, Action.FLASH, 0, 100.0)
    assert 0.0 <= 100.0 - agent.cycle_start <= CONFIG.jitter


def test_the_same_seed_gives_the_same_initial_phases_and_jitters():
    first, second = Agent(3, CONFIG, Tally()), Agent(3, CONFIG, Tally())
    assert first.initial_phase == second.initial_phase
    assert first.rng.random() == second.rng.random()
    assert Agent(4, CONFIG, Tally()).initial_phase != first.initial_phase


async def test_listen_returns_the_first_signal_and_unsubscribes(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    listening = asyncio.ensure_future(listen(connector, "firefly/4/inbox", 5.0))
    await asyncio.sleep(1.0)
    await connector.publish("firefly/4/inbox", 7)
    perception = await listening
    assert perception == {"signal": 7, "timeout": False, "elapsed": pytest.approx(1.0)}
    assert broker.statistics().subscriptions == 0


async def test_listen_times_out_after_the_timeout(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    perception = await listen(connector, "firefly/4/inbox", 2.5)
    assert perception == {"signal": None, "timeout": True, "elapsed": pytest.approx(2.5)}
    assert broker.statistics().subscriptions == 0


async def test_flash_tells_every_neighbour_and_counts_the_unheard(broker):
    connector = LocalBusConnector(broker)
    await connector.connect()
    heard: list[tuple[str, object]] = []

    async def record(topic, payload):
        heard.append((topic, payload))

    await connector.subscribe("firefly/0/0/inbox", record)
    await connector.subscribe(FLASH_TOPIC, record)
    agent = _agent(5.0)
    missed = await flash(connector, agent)
    await asyncio.sleep(0)
    assert missed == 7  # 8 neighbours, only agent 0 listening
    assert ("firefly/0/0/inbox", 4) in heard
    assert any(topic == FLASH_TOPIC and payload[0] == 4 for topic, payload in heard)
    tally = agent.tally
    assert (tally.flashes, tally.messages, tally.inbox_misses) == (1, 8, 7)
