"""The Kafka backend: the `Cluster` protocol over confluent-kafka."""

from engine.kafka.cluster import KafkaCluster

__all__ = ["KafkaCluster"]
