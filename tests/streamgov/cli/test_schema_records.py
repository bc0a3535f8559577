"""Schema-aware `produce` and `consume` against a real registry server, interoperating with
confluent-kafka's own serializers in both directions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer as CfAvroDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as CfAvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer as CfJSONDeserializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer as CfJSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec, TopicPartition
from streamgov.cli import cli
from streamgov.cli.recordformats import CONSUME_FORMATS, PRODUCE_FORMATS, SCHEMA_FORMATS
from streamgov.server import create_app
from tests.registry.registry_server import serve_in_thread

ORDER = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "item", "type": "string"},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }
)
ORDER_JSON = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
        "required": ["id", "item"],
    }
)
KEY = json.dumps({"type": "record", "name": "Key", "fields": [{"name": "k", "type": "int"}]})


@pytest.fixture()
def cluster(streamgov_home: Path) -> Iterator[EmbeddedCluster]:
    opened = EmbeddedCluster(streamgov_home / "clusters" / "default", name="default")
    yield opened
    opened.close()


@pytest.fixture()
def url(cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("STREAMGOV_URL", "STREAMGOV_REGISTRY_URL", "STREAMGOV_TOKEN", "STREAMGOV_USER"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(cluster)
    try:
        with serve_in_thread(app) as address:
            yield address
    finally:
        app.state.services.close()


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def raw_values(cluster: EmbeddedCluster, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    consumer = cluster.consumer(None)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek(TopicPartition(topic, 0), 0)
        end = cluster.list_offsets(topic, OffsetSpec.LATEST)[0]
        out: list[tuple[bytes | None, bytes | None]] = []
        while len(out) < end:
            out.extend((r.key, r.value) for r in consumer.poll(timeout=1.0))
        return out
    finally:
        consumer.close()


def test_the_format_lists_come_from_one_table() -> None:
    assert set(SCHEMA_FORMATS) == {"avro", "jsonschema", "protobuf"}
    assert PRODUCE_FORMATS == ("string", "json", "avro", "jsonschema", "protobuf")
    assert CONSUME_FORMATS[:-1] == PRODUCE_FORMATS and CONSUME_FORMATS[-1] == "auto"


def test_avro_round_trip_and_confluent_reads_what_the_cli_wrote(
    cluster: EmbeddedCluster, url: str, tmp_path: Path
) -> None:
    schema, key_schema = tmp_path / "order.avsc", tmp_path / "key.avsc"
    schema.write_text(ORDER)
    key_schema.write_text(KEY)
    ok("topics", "create", "orders")
    values = [{"id": 1, "item": "tea", "note": None}, {"id": 2, "item": "milk", "note": "2l"}]
    lines = "".join(f'{{"k": {v["id"]}}}\t{json.dumps(v)}\n' for v in values)
    ok(
        "produce", "orders", "-K", "\\t", "--key-format", "avro", "--key-schema-file",
        str(key_schema), "--value-format", "avro", "--schema-file", str(schema), "-r", url,
        input=lines,
    )  # fmt: skip

    confluent = SchemaRegistryClient({"url": url})
    value_reader = CfAvroDeserializer(confluent)
    key_reader = CfAvroDeserializer(confluent)
    written = raw_values(cluster, "orders")
    assert [
        value_reader(v, SerializationContext("orders", MessageField.VALUE)) for _, v in written
    ] == values
    key_context = SerializationContext("orders", MessageField.KEY)
    assert [key_reader(k, key_context) for k, _ in written] == [{"k": 1}, {"k": 2}]

    for fmt in ("avro", "auto"):
        out = ok(
            "consume", "orders", "--from-beginning", "-e", "--value-format", fmt,
            "--key-format", fmt, "-r", url, "--format", "json",
        ).stdout  # fmt: skip
        records = [json.loads(line) for line in out.splitlines()]
        assert [r["value"] for r in records] == values
        assert [r["key"] for r in records] == [{"k": 1}, {"k": 2}]
        assert {r["value_schema_id"] for r in records} == {int.from_bytes(written[0][1][1:5])}
    text = ok("consume", "orders", "--from-beginning", "-e", "--value-format", "avro", "-r", url)
    assert [json.loads(line) for line in text.stdout.splitlines()] == values
    # Without a format the wire bytes come out as they are.
    raw = ok("consume", "orders", "--from-beginning", "-e", "--format", "json").stdout
    assert json.loads(raw.splitlines()[0])["value"].startswith("\x00")  # the magic byte


def test_the_cli_reads_what_confluent_wrote_and_auto_leaves_plain_records(
    cluster: EmbeddedCluster, url: str
) -> None:
    ok("topics", "create", "mixed")
    confluent = SchemaRegistryClient({"url": url})
    avro = CfAvroSerializer(confluent, ORDER)
    as_json = CfJSONSerializer(ORDER_JSON, confluent, conf={"auto.register.schemas": True})
    context = SerializationContext("mixed", MessageField.VALUE)
    # A subject keeps one schema type: the JSON records are written as if for another topic.
    json_context = SerializationContext("mixed-json", MessageField.VALUE)
    producer = cluster.producer()
    producer.send("mixed", avro({"id": 7, "item": "jam", "note": None}, context), None)
    producer.send("mixed", as_json({"id": 8, "item": "bread"}, json_context), None)
    producer.send("mixed", b"plain text", None)
    producer.send("mixed", b"\x00\x00\x00\x03\xe7 zero-led, not framed", None)
    producer.flush()
    producer.close()
    out = ok(
        "consume", "mixed", "--from-beginning", "-e", "--value-format", "auto", "-r", url
    ).stdout.encode()
    assert out.split(b"\n")[:3] == [
        b'{"id":7,"item":"jam","note":null}',
        b'{"id":8,"item":"bread"}',
        b"plain text",
    ]
    assert b"zero-led, not framed" in out
    # A format that does not fit a record is an error naming the record.
    result = run("consume", "mixed", "--from-beginning", "-e", "--value-format", "avro", "-r", url)
    assert result.exit_code == 1
    assert "the value of mixed[0]@1" in result.output and "Traceback" not in result.output


def test_jsonschema_produce_is_read_by_confluent(
    cluster: EmbeddedCluster, url: str, tmp_path: Path
) -> None:
    schema = tmp_path / "order.json"
    schema.write_text(ORDER_JSON)
    ok("topics", "create", "j")
    ok(
        "produce", "j", "--value-format", "jsonschema", "--schema-file", str(schema),
        "--subject", "orders-json", "-r", url, input='{"id": 1, "item": "x"}\n',
    )  # fmt: skip
    confluent = SchemaRegistryClient({"url": url})
    assert confluent.get_latest_version("orders-json").schema.schema_type == "JSON"
    [(_, value)] = raw_values(cluster, "j")
    reader = CfJSONDeserializer(ORDER_JSON, schema_registry_client=confluent)
    assert reader(value, SerializationContext("j", MessageField.VALUE)) == {"id": 1, "item": "x"}
    # Without --schema-file the subject's latest version is written with.
    ok(
        "produce", "j", "--value-format", "jsonschema", "--subject", "orders-json", "-r", url,
        input='{"id": 2, "item": "y"}\n',
    )  # fmt: skip
    out = ok("consume", "j", "--from-beginning", "-e", "--value-format", "jsonschema", "-r", url)
    assert out.stdout.splitlines() == ['{"id":1,"item":"x"}', '{"id":2,"item":"y"}']


@pytest.mark.parametrize(
    ("args", "lines", "message"),
    [
        (["--value-format", "avro", "--schema-file", "SCHEMA"], '{"id": 1}\n', "line 1: the"),
        (["--value-format", "avro", "--schema-file", "SCHEMA"], "nope\n", "line 1: the value is"),
        (["--value-format", "json"], '{"a": 1}\n{oops\n', "line 2: the value is not JSON"),
        (["--value-format", "avro"], '{"id": 1}\n', "no schema for subject 'e-value'"),
        (["--subject", "x"], "a\n", "--subject and --schema-file need a registry"),
        (["--key-format", "json"], "a\n", "--key-format needs --key-separator"),
    ],
)  # fmt: skip
def test_bad_records_and_options_are_one_line_errors(
    url: str, tmp_path: Path, args: list[str], lines: str, message: str
) -> None:
    schema = tmp_path / "order.avsc"
    schema.write_text(ORDER)
    ok("topics", "create", "e")
    args = [str(schema) if a == "SCHEMA" else a for a in args]
    result = run("produce", "e", *args, "-r", url, input=lines)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def test_protobuf_written_by_confluent_is_consumed_and_the_cli_writes_what_confluent_reads(
    cluster: EmbeddedCluster, url: str, tmp_path: Path
) -> None:
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CfProtoReader
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer as CfProtoWriter

    from registry.formats.protobuf import parse_protobuf
    from tests.registry.protobuf_samples import message_class, order_schema

    order_class = message_class(order_schema(), "shop.Order")
    ok("topics", "create", "pb")
    confluent = SchemaRegistryClient({"url": url})
    context = SerializationContext("pb", MessageField.VALUE)
    writer = CfProtoWriter(order_class, confluent, {"use.deprecated.format": False})
    order = order_class(id="o-1", labels={"k": "v"})
    order.total.units = 3
    producer = cluster.producer()
    producer.send("pb", writer(order, context), None)
    producer.flush()
    producer.close()
    for fmt in ("protobuf", "auto"):
        out = ok("consume", "pb", "--from-beginning", "-e", "--value-format", fmt, "-r", url).stdout
        assert json.loads(out.splitlines()[0]) == {
            "id": "o-1", "total": {"units": "3"}, "labels": {"k": "v"},
        }  # fmt: skip

    schema = tmp_path / "point.proto"
    schema.write_text(
        'syntax = "proto3";\npackage geo;\nmessage Point { int32 x = 1; string name = 2; }\n'
    )
    ok("topics", "create", "points")
    ok(
        "produce", "points", "--value-format", "protobuf", "--schema-file", str(schema), "-r", url,
        input='{"x": 3, "name": "a"}\n',
    )  # fmt: skip
    point_schema = confluent.get_latest_version("points-value").schema
    assert point_schema.schema_type == "PROTOBUF"
    [(_, value)] = raw_values(cluster, "points")
    assert value is not None and value[5:6] == b"\x00"  # message indexes [0]
    point_class = message_class(parse_protobuf(point_schema.schema_str), "geo.Point")
    point = CfProtoReader(point_class, {}, confluent)(
        value, SerializationContext("points", MessageField.VALUE)
    )
    assert (point.x, point.name) == (3, "a")
    bad = run(
        "produce", "points", "--value-format", "protobuf", "--schema-file", str(schema), "-r", url,
        input='{"x": "not a number"}\n',
    )  # fmt: skip
    assert bad.exit_code == 1 and "geo.Point" in bad.output and "Traceback" not in bad.output
