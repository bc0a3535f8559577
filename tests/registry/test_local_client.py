"""`LocalRegistryClient` answers as the HTTP `RegistryClient` does (a differential test
against a served registry over the same cluster), errors included, and the serdes and the
recoders of every format work through it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient, RegistryClientError
from registry.formats import FORMATS
from registry.local_client import LocalRegistryClient
from registry.serde import AvroDeserializer, AvroSerializer, JSONSerializer
from registry.serde.recode import RECODERS, Recoders
from registry.service import SchemaRegistry
from streamgov.server import create_app, serve_in_thread

AVRO = json.dumps(
    {"type": "record", "name": "User", "fields": [{"name": "name", "type": "string"}]}
)
AVRO_2 = json.dumps(
    {
        "type": "record",
        "name": "User",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "age", "type": "int", "default": 0},
        ],
    }
)
JSON_SCHEMA = json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}})
PROTO = 'syntax = "proto3";\npackage p;\nmessage M { string s = 1; }\nmessage N { int64 i = 1; }\n'


@pytest.fixture()
def clients(tmp_path: Path) -> Iterator[tuple[LocalRegistryClient, RegistryClient]]:
    cluster = EmbeddedCluster(tmp_path / "c", name="c")
    app = create_app(cluster)
    registry = SchemaRegistry(cluster).start()
    try:
        with serve_in_thread(app) as url, RegistryClient(url) as remote:
            yield LocalRegistryClient(registry), remote
    finally:
        registry.close()
        app.state.services.close()
        cluster.close()


def outcome(call: Callable[[], Any]) -> Any:
    """What a call answers, or the error it raises (status and code)."""
    try:
        return ("ok", call())
    except RegistryClientError as exc:
        return ("error", exc.status, exc.error_code)


def test_every_format_has_a_recoder() -> None:
    assert set(RECODERS) == set(FORMATS)


def test_local_answers_as_the_http_client_does(
    clients: tuple[LocalRegistryClient, RegistryClient],
) -> None:
    local, remote = clients
    assert local.register("u-value", AVRO) == remote.register("u-value", AVRO)
    assert remote.register("u-value", AVRO_2) == local.register("u-value", AVRO_2)
    local.register("p-value", PROTO, "PROTOBUF")
    calls: list[Callable[[RegistryClient], Any]] = [
        lambda c: c.get_schema(1),
        lambda c: c.get_schema(99),
        lambda c: c.get_version("u-value", 1),
        lambda c: c.get_latest("u-value"),
        lambda c: c.get_version("nobody", 1),
        lambda c: c.get_version("u-value", 7),
        lambda c: c.lookup("u-value", AVRO),
        lambda c: c.lookup("u-value", JSON_SCHEMA, "JSON"),
        lambda c: c.subjects(),
        lambda c: c.versions("u-value"),
        lambda c: c.schema_types(),
        lambda c: c.test_compatibility("u-value", AVRO),
        lambda c: c.get_config(),
        lambda c: c.get_config("u-value"),
        lambda c: c.get_mode(),
        lambda c: c.register("u-value", "{not json"),
        lambda c: c.get_schema(3),
    ]
    for call in calls:
        assert outcome(partial(call, local)) == outcome(partial(call, remote))
    assert local.set_config("u-value", "NONE") == remote.set_config("u-value", "NONE")
    assert local.get_config("u-value") == remote.get_config("u-value")
    assert local.delete_config("u-value") == {"compatibilityLevel": "NONE"}
    assert outcome(lambda: remote.delete_config("u-value")) == outcome(
        lambda: local.delete_config("u-value")
    )
    assert local.set_mode("READONLY", "u-value") == remote.get_mode("u-value")
    assert remote.delete_mode("u-value") == "READONLY"
    assert local.delete_subject("p-value") == [1]
    assert outcome(lambda: remote.versions("p-value")) == outcome(lambda: local.versions("p-value"))
    with pytest.raises(RegistryClientError) as raised:
        local.request("GET", "/subjects")
    assert raised.value.status == 400


def test_serdes_and_recoders_through_the_local_client(
    clients: tuple[LocalRegistryClient, RegistryClient],
) -> None:
    local, remote = clients
    avro = AvroSerializer(local, AVRO)({"name": "ann"}, "t")
    assert avro is not None
    assert AvroDeserializer(remote)(avro) == {"name": "ann"}
    data = JSONSerializer(local, JSON_SCHEMA)({"n": 3}, "j")
    assert data is not None
    recoders = Recoders(local)
    for record, change in ((avro, {"name": "bob"}), (data, {"n": 4})):
        recoder = recoders.for_type(recoders.schema(record).schema_type)
        decoded = recoder.decode(record)
        again = recoder.encode(decoded, change)
        assert again[:5] == record[:5]
        assert recoder.decode(again).value == change
