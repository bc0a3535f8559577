"""Protobuf serdes: byte-identical with confluent-kafka's both ways, message indexes, errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CfDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer as CfSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.client import RegistryClient
from registry.serde import SerdeError, frame
from registry.serde.protobuf import (
    ProtobufDeserializer,
    ProtobufSerializer,
    decode_indexes,
    encode_indexes,
    message_indexes,
    to_json,
)
from tests.registry.protobuf_samples import message_class, order_schema
from tests.registry.registry_server import registry_in_thread

SCHEMA = order_schema()
ORDER = message_class(SCHEMA, "shop.Order")
LINE = message_class(SCHEMA, "shop.Order.Line")
NOTE = message_class(SCHEMA, "shop.Order.Line.Note")
REFUND = message_class(SCHEMA, "shop.Refund")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_in_thread(Path(tmp_path_factory.mktemp("pb")), "pb") as address:
        yield address


@pytest.fixture()
def ours(url: str) -> Iterator[RegistryClient]:
    with RegistryClient(url) as client:
        yield client


@pytest.fixture()
def theirs(url: str) -> Iterator[SchemaRegistryClient]:
    client = SchemaRegistryClient({"url": url})
    yield client
    client.close()


def same(decoded: object, value: object) -> bool:
    """Equal messages, even when one was built from the registered schema (another class)."""
    assert decoded is not None
    return bool(
        decoded.DESCRIPTOR.full_name == value.DESCRIPTOR.full_name  # type: ignore[attr-defined]
        and decoded.SerializeToString(deterministic=True)  # type: ignore[attr-defined]
        == value.SerializeToString(deterministic=True)  # type: ignore[attr-defined]
    )


def topic() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def sample_order() -> object:
    order = ORDER(id="o-1", card="4111", status=1, priority=3)
    order.total.currency = "EUR"
    order.total.units = 1250
    line = order.lines.add(sku="sku-1", quantity=2)
    line.note.text = "gift"
    order.labels["channel"] = "web"
    order.placed.seconds = 1_700_000_000
    return order


def test_message_indexes_of_nested_messages() -> None:
    assert message_indexes(ORDER.DESCRIPTOR) == [0]
    assert message_indexes(REFUND.DESCRIPTOR) == [1]
    assert message_indexes(NOTE.DESCRIPTOR) == [0, 1, 0]  # Line, after Order's LabelsEntry
    assert encode_indexes([0]) == b"\x00"
    assert encode_indexes([1]) == b"\x02\x02"


@given(st.lists(st.integers(min_value=0, max_value=2**31 - 1), min_size=1, max_size=20))
def test_message_index_arrays_round_trip(indexes: list[int]) -> None:
    encoded = encode_indexes(indexes)
    decoded, end = decode_indexes(memoryview(encoded + b"rest"))
    assert decoded == indexes
    assert end == len(encoded)


@pytest.mark.parametrize(
    "data", [b"", b"\x80", b"\x02", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"]
)
def test_truncated_or_hostile_index_arrays_are_refused(data: bytes) -> None:
    with pytest.raises(SerdeError):
        decode_indexes(memoryview(data))


@pytest.mark.parametrize("cls", [ORDER, NOTE, REFUND])
def test_bytes_identical_to_confluent_kafka_both_ways(
    cls: type, ours: RegistryClient, theirs: SchemaRegistryClient
) -> None:
    name = topic()
    value = sample_order() if cls is ORDER else cls()
    if cls is NOTE:
        value.text = "n"
    elif cls is REFUND:
        value.order_id = "o-1"
        value.amount.units = 5
    ctx = SerializationContext(name, MessageField.VALUE)
    cf_bytes = CfSerializer(cls, theirs, {"use.deprecated.format": False})(value, ctx)
    our_bytes = ProtobufSerializer(ours, cls)(value, name)
    assert our_bytes == cf_bytes
    assert same(ProtobufDeserializer(ours)(cf_bytes), value)
    assert CfDeserializer(cls, {}, theirs)(our_bytes, ctx) == value
    assert ProtobufDeserializer(ours, cls)(our_bytes) == value


def test_the_writer_schema_decodes_without_the_class(ours: RegistryClient) -> None:
    name = topic()
    data = ProtobufSerializer(ours, ORDER)(sample_order(), name)
    assert data is not None
    decoded = ProtobufDeserializer(ours)(data)
    assert to_json(decoded) == to_json(sample_order())  # type: ignore[arg-type]
    assert to_json(decoded)["total"] == {"currency": "EUR", "units": "1250"}  # type: ignore[arg-type]


def test_the_import_is_registered_under_its_file_name(ours: RegistryClient) -> None:
    name = topic()
    ProtobufSerializer(ours, ORDER)(sample_order(), name)
    registered = ours.get_latest(f"{name}-value")
    assert [ref.name for ref in registered.references] == ["common/money.proto"]
    assert "message Order {" in registered.schema  # stored as .proto text
    assert ours.get_latest("common/money.proto").schema_type == "PROTOBUF"


@settings(max_examples=40, deadline=None)
@given(
    order_id=st.text(max_size=20),
    units=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    quantities=st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=5),
    labels=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4),
    voucher=st.one_of(st.none(), st.text(max_size=8)),
)
def test_generated_messages_round_trip_and_match_confluent_kafka(
    url: str,
    order_id: str,
    units: int,
    quantities: list[int],
    labels: dict[str, str],
    voucher: str | None,
) -> None:
    with RegistryClient(url) as client:
        order = ORDER(id=order_id, labels=labels)
        order.total.units = units
        for quantity in quantities:
            order.lines.add(quantity=quantity)
        if voucher is not None:
            order.voucher = voucher
        data = ProtobufSerializer(client, ORDER)(order, "roundtrip")
        assert same(ProtobufDeserializer(client)(data), order)
    theirs = SchemaRegistryClient({"url": url})
    try:
        ctx = SerializationContext("roundtrip", MessageField.VALUE)
        assert CfSerializer(ORDER, theirs, {"use.deprecated.format": False})(order, ctx) == data
        assert CfDeserializer(ORDER, {}, theirs)(data, ctx) == order
    finally:
        theirs.close()


def test_a_record_that_is_not_protobuf_is_a_clear_error(ours: RegistryClient) -> None:
    name = topic()
    data = ProtobufSerializer(ours, ORDER)(sample_order(), name)
    assert data is not None
    schema_id = int.from_bytes(data[1:5], "big")
    with pytest.raises(SerdeError, match="not valid Protobuf"):
        ProtobufDeserializer(ours)(frame(schema_id, b"\x00\x0a\xff"))
    with pytest.raises(SerdeError, match="point to no message"):
        ProtobufDeserializer(ours)(frame(schema_id, encode_indexes([7])))


def test_a_value_of_another_type_is_refused(ours: RegistryClient) -> None:
    with pytest.raises(SerdeError, match=r"must be a shop\.Order"):
        ProtobufSerializer(ours, ORDER)(REFUND(), topic())  # type: ignore[arg-type]
