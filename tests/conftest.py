"""Fixtures shared by the test packages."""

import pytest

from cascade.connectors import LocalBroker


@pytest.fixture
async def broker():
    """A fresh in-memory broker, closed (all subscription workers stopped) after the test."""
    broker = LocalBroker()
    yield broker
    await broker.aclose()


def _started_mosquitto():
    """A started mosquitto, or a skip naming the install command where it is missing."""
    from bench.broker import INSTALL_HINT, Mosquitto, mosquitto_path
    from bench.errors import BenchError

    try:
        mosquitto_path()
    except BenchError:
        pytest.skip(f"mosquitto is not installed: {INSTALL_HINT}")
    return Mosquitto().start()


@pytest.fixture(scope="session")
def mosquitto_session():
    """One real mosquitto for the session."""
    started = _started_mosquitto()
    yield started
    started.stop()


@pytest.fixture
def mqtt_url(mosquitto_session):
    """The URL of the session's mosquitto, restarted first if a test killed it."""
    if not mosquitto_session.running():
        mosquitto_session.start()
    return mosquitto_session.url


@pytest.fixture
def mosquitto():
    """A mosquitto of the test's own, for tests that kill or restart it."""
    started = _started_mosquitto()
    yield started
    started.stop()
