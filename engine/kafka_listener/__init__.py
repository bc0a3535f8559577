"""A Kafka-protocol listener over the embedded engine: any Kafka client can produce, consume,
join groups, run transactions and administer topics on an `EmbeddedCluster`.
See docs/kafka-listener.md."""

from __future__ import annotations

from engine.kafka_listener.server import KafkaListener

__all__ = ["KafkaListener"]
