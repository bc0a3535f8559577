"""The TUI decodes Protobuf records through the REST API's serialized schemas."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.client import RegistryClient
from registry.serde.protobuf import ProtobufSerializer, encode_indexes
from tests.registry.protobuf_samples import message_class, order_schema
from tui import protobuf
from tui.client import StreamgovClient
from tui.decode import SchemaCache

SCHEMA = order_schema()
ORDER = message_class(SCHEMA, "shop.Order")
NOTE = message_class(SCHEMA, "shop.Order.Line.Note")


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=10))
def test_message_indexes_agree_with_the_serializer(indexes: list[int]) -> None:
    encoded = encode_indexes(indexes)
    assert protobuf.message_indexes(encoded + b"\x0a") == (indexes, len(encoded))


def test_a_cut_index_array_is_an_error() -> None:
    with pytest.raises(ValueError, match="cut short"):
        protobuf.message_indexes(b"\x04\x02")


@pytest.mark.anyio
async def test_the_cache_decodes_a_record_with_an_import(server_url: str) -> None:
    order = ORDER(id="o-7", labels={"a": "b"})
    order.total.units = 12
    note = NOTE(text="gift")
    with RegistryClient(server_url) as registry:
        framed = ProtobufSerializer(registry, ORDER)(order, "pb-orders")
        framed_note = ProtobufSerializer(registry, NOTE)(note, "pb-notes")
    client = StreamgovClient(server_url)
    try:
        cache = SchemaCache(client)
        decoded = await cache.decode(framed)
        assert decoded.kind == "protobuf"
        assert json.loads(decoded.text) == {
            "id": "o-7",
            "total": {"units": "12"},
            "labels": {"a": "b"},
        }
        assert json.loads((await cache.decode(framed_note)).text) == {"text": "gift"}
    finally:
        await client.close()
