"""Serializers and deserializers in Confluent's wire format, for Avro, JSON Schema and Protobuf."""

from registry.serde.avro import AvroDeserializer, AvroSerializer
from registry.serde.jsonschema import JSONDeserializer, JSONSerializer
from registry.serde.protobuf import (
    ProtobufDeserializer,
    ProtobufJSONDeserializer,
    ProtobufJSONSerializer,
    ProtobufSerializer,
)
from registry.serde.strategies import (
    STRATEGIES,
    SubjectNameStrategy,
    record_name_strategy,
    topic_name_strategy,
    topic_record_name_strategy,
)
from registry.serde.wire import SerdeError, frame, unframe

__all__ = [
    "STRATEGIES",
    "AvroDeserializer",
    "AvroSerializer",
    "JSONDeserializer",
    "JSONSerializer",
    "ProtobufDeserializer",
    "ProtobufJSONDeserializer",
    "ProtobufJSONSerializer",
    "ProtobufSerializer",
    "SerdeError",
    "SubjectNameStrategy",
    "frame",
    "record_name_strategy",
    "topic_name_strategy",
    "topic_record_name_strategy",
    "unframe",
]
