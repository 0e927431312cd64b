"""Connectors: the message transports a workflow can publish to and subscribe on."""

from cascade.connectors.base import Connector, Subscription, is_empty_payload
from cascade.connectors.direct import DirectChannel
from cascade.connectors.local import BrokerStatistics, LocalBroker, LocalBusConnector
from cascade.connectors.topics import topic_matches, validate_topic_filter

__all__ = [
    "BrokerStatistics",
    "Connector",
    "DirectChannel",
    "LocalBroker",
    "LocalBusConnector",
    "Subscription",
    "is_empty_payload",
    "topic_matches",
    "validate_topic_filter",
]
