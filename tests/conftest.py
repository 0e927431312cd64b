"""Fixtures shared by the test packages."""

import pytest

from cascade.connectors import LocalBroker


@pytest.fixture
async def broker():
    """A fresh in-memory broker, closed (all subscription workers stopped) after the test."""
    broker = LocalBroker()
    yield broker
    await broker.aclose()
