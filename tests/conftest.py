"""Fixtures shared by the test packages."""

import pytest

from cascade.connectors import LocalBroker


@pytest.fixture
async def broker():
    """A fresh in-memory broker, closed (all subscription workers stopped) after the test."""
    broker = LocalBroker()
    yield broker
    await broker.aclose()


@pytest.fixture(scope="session")
def mosquitto_session():
    """One real mosquitto for the session (skipped, with the install command, where missing)."""
    from bench.broker import INSTALL_HINT, Mosquitto, mosquitto_path
    from bench.errors import BenchError

    try:
        mosquitto_path()
    except BenchError:
        pytest.skip(f"mosquitto is not installed: {INSTALL_HINT}")
    with Mosquitto() as started:
        yield started


@pytest.fixture
def mqtt_url(mosquitto_session):
    """The URL of the session's mosquitto, restarted first if a test killed it."""
    if not mosquitto_session.running():
        mosquitto_session.start()
    return mosquitto_session.url


@pytest.fixture
def mosquitto():
    """A mosquitto of the test's own, for tests that kill or restart it."""
    from bench.broker import INSTALL_HINT, Mosquitto, mosquitto_path
    from bench.errors import BenchError

    try:
        mosquitto_path()
    except BenchError:
        pytest.skip(f"mosquitto is not installed: {INSTALL_HINT}")
    with Mosquitto() as started:
        yield started
