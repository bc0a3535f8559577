"""Masked copies: no field tagged with a masked tag (schema tags or catalog field tags) ever
reaches the target unmasked; records that cannot be masked are dead-lettered on the source."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.service import Catalog
from engine.embedded import EmbeddedCluster
from engine.types import ConsumedRecord, Record
from registry.local_client import LocalRegistryClient
from registry.service import SchemaRegistry
from replicator.flow import Flow, FlowError
from replicator.mask_rules import mask_value
from replicator.masking import Masker, dead_letter_topic
from replicator.worker import Replicator

SALT = b"avro-property-salt"

SCALARS: dict[str, Any] = {
    "string": st.text(max_size=20),
    "long": st.integers(-(2**63), 2**63 - 1),
    "int": st.integers(-(2**31), 2**31 - 1),
    "bytes": st.binary(max_size=20),
    "boolean": st.booleans(),
    "double": st.floats(allow_nan=False),
}


@st.composite
def schema_and_values(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], set[str]]:
    count = draw(st.integers(1, 5))
    types = [draw(st.sampled_from(sorted(SCALARS))) for _ in range(count)]
    tagged = {f"f{i}" for i in range(count) if draw(st.booleans())}
    nullable = [draw(st.booleans()) for _ in range(count)]
    fields = []
    for i, kind in enumerate(types):
        field: dict[str, Any] = {"name": f"f{i}", "type": ["null", kind] if nullable[i] else kind}
        if f"f{i}" in tagged:
            field["confluent:tags"] = ["PII"]
        fields.append(field)
    schema = {"type": "record", "name": f"R{draw(st.integers(0, 10**9))}", "fields": fields}
    values = []
    for _ in range(draw(st.integers(1, 4))):
        value = {}
        for i, kind in enumerate(types):
            strategy = SCALARS[kind]
            if nullable[i]:
                strategy = st.none() | strategy
            value[f"f{i}"] = draw(strategy)
        values.append(value)
    return schema, values, tagged


def framed(schema_id: int, schema: dict[str, Any], value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return struct.pack(">bI", 0, schema_id) + out.getvalue()


@pytest.fixture(scope="module")
def source(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedCluster, SchemaRegistry]]:
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("mask") / "east", name="east")
    registry = SchemaRegistry(cluster).start()
    yield cluster, registry
    registry.close()
    cluster.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=schema_and_values(), action=st.sampled_from(["hash", "redact"]))
def test_no_tagged_field_passes_unmasked(
    source: tuple[EmbeddedCluster, SchemaRegistry],
    case: tuple[dict[str, Any], list[dict[str, Any]], set[str]],
    action: str,
) -> None:
    cluster, registry = source
    schema, values, tagged = case
    schema_id = int(str(registry.register("t-value", {"schema": json.dumps(schema)})["id"]))
    registry.set_config("t-value", {"compatibility": "NONE"})
    masker = Masker(
        {"pii": action},  # type: ignore[dict-item]
        LocalRegistryClient(registry),
        cluster,
        "west",
        salt=SALT,
    )
    parsed = fastavro.parse_schema(schema)
    for i, value in enumerate(values):
        record = ConsumedRecord("t", 0, i, 0, None, framed(schema_id, schema, value))
        out = masker("east.t", record)
        assert out is not None and out.value is not None
        assert out.value[:5] == record.value[:5]  # type: ignore[index]
        decoded = fastavro.schemaless_reader(io.BytesIO(out.value[5:]), parsed, None)
        for name, original in value.items():
            if name in tagged:
                assert decoded[name] == mask_value(original, action, SALT)  # type: ignore[arg-type]
                if isinstance(original, str | bytes) and original:
                    assert decoded[name] != original
            else:
                assert decoded[name] == original


def test_catalog_tags_mask_and_undecodable_records_are_dead_lettered(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "record",
        "name": "User",
        "fields": [{"name": "id", "type": "long"}, {"name": "email", "type": "string"}],
    }
    schema_id = int(str(registry.register("users-value", {"schema": json.dumps(schema)})["id"]))
    registry.close()
    catalog = Catalog(east).start()
    catalog.tag("users", owner="crm", field_tags={"email": ["pii"]})
    catalog.close()
    east.create_topic("users", 1)
    east.produce(
        "users",
        [
            Record(framed(schema_id, schema, {"id": 1, "email": "ann@example.com"})),
            Record(b"not framed: ann@example.com"),
            Record(framed(schema_id, schema, {"id": 2, "email": "bob@example.com"})),
        ],
    )
    replicator = Replicator(Flow("east", "west", mask={"pii": "redact"}), east, west)
    replicator.run_once()
    replicator.close()
    copied = west.fetch("east.users", 0, 0, max_records=10)
    parsed = fastavro.parse_schema(schema)
    decoded = [
        fastavro.schemaless_reader(io.BytesIO((r.value or b"")[5:]), parsed, None) for r in copied
    ]
    assert decoded == [{"id": 1, "email": ""}, {"id": 2, "email": ""}]
    assert all(b"example.com" not in (r.value or b"") for r in copied)
    dead = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert [r.value for r in dead] == [b"not framed: ann@example.com"]
    assert dict(dead[0].headers)["streamgov.dlq.offset"] == b"1"
    east.close()
    west.close()


values = st.text(max_size=20) | st.binary(max_size=20) | st.integers(-(2**63), 2**63 - 1)


@given(value=values, salt=st.binary(min_size=1, max_size=32), other=st.binary(min_size=1))
def test_salted_hash_is_stable_for_one_salt_and_differs_by_salt(
    value: str | bytes | int, salt: bytes, other: bytes
) -> None:
    first = mask_value(value, "hash", salt)
    assert first == mask_value(value, "hash", salt)
    if other != salt:
        assert first != mask_value(value, "hash", other)
    assert first != value


def test_hash_without_a_salt_is_refused() -> None:
    with pytest.raises(FlowError, match="salt"):
        Flow("east", "west", mask={"pii": "hash"})
    assert Flow("east", "west", mask={"pii": "redact"}).mask_salt == ""
    flow = Flow("east", "west", mask={"pii": "hash"}, mask_salt="s3cret-salt")
    assert "s3cret-salt" not in repr(flow)


def test_json_schema_values_are_masked_through_the_registry_serdes(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string", "maxLength": 80, "confluent:tags": ["PII"]},
            "code": {"type": "string", "maxLength": 4, "confluent:tags": ["PII"]},
        },
    }
    body = {"schema": json.dumps(schema), "schemaType": "JSON"}
    schema_id = int(str(registry.register("users-value", body)["id"]))
    masker = Masker({"pii": "hash"}, LocalRegistryClient(registry), east, "west", salt=SALT)
    header = struct.pack(">bI", 0, schema_id)
    good = header + json.dumps({"id": 7, "email": "ann@example.com"}).encode()
    out = masker("east.users", ConsumedRecord("users", 0, 0, 0, None, good))
    assert out is not None and out.value is not None and out.value[:5] == header
    assert json.loads(out.value[5:]) == {
        "id": 7,
        "email": mask_value("ann@example.com", "hash", SALT),
    }
    # the hash of a 4-character code is longer than the schema allows: dead-lettered
    short = header + json.dumps({"id": 8, "code": "ab12"}).encode()
    assert masker("east.users", ConsumedRecord("users", 0, 1, 0, None, short)) is None
    dead = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert [r.value for r in dead] == [short]
    assert b"does not encode" in dict(dead[0].headers)["streamgov.dlq.reason"]
    registry.close()
    east.close()


def test_the_salt_comes_from_the_variable_a_flow_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.check.yamlfile import ConfigFileError
    from streamgov.replication import project_flows

    config = tmp_path / "streamgov.yaml"
    config.write_text(
        "replication:\n  flows:\n"
        "    - {source: a, target: b, mask: {pii: hash}, mask_salt_env: A_B_SALT}\n"
        "    - {source: a, target: c, mask: {pii: hash}}\n"
    )
    monkeypatch.delenv("STREAMGOV_MASK_SALT", raising=False)
    monkeypatch.setenv("A_B_SALT", "salt-of-a-to-b")
    with pytest.raises(ConfigFileError) as caught:
        project_flows(config)
    assert "streamgov.yaml:4:" in str(caught.value) and "salt" in str(caught.value)
    monkeypatch.setenv("STREAMGOV_MASK_SALT", "default-salt")
    first, second = (spec.flow for spec, _, _ in project_flows(config))  # type: ignore[attr-defined]
    assert (first.mask_salt, second.mask_salt) == ("salt-of-a-to-b", "default-salt")


def test_replicate_run_hashes_with_the_salt_of_the_named_variable(
    streamgov_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from streamgov.cli import cli
    from streamgov.config import embedded_cluster_path

    east = EmbeddedCluster(embedded_cluster_path("east"), name="east")
    registry = SchemaRegistry(east).start()
    schema = {
        "type": "record",
        "name": "User",
        "fields": [{"name": "email", "type": "string", "confluent:tags": ["PII"]}],
    }
    schema_id = int(str(registry.register("users-value", {"schema": json.dumps(schema)})["id"]))
    registry.close()
    east.create_topic("users", 1)
    east.produce("users", [Record(framed(schema_id, schema, {"email": "ann@example.com"}))])
    east.close()
    args = ["replicate", "run", "-s", "east", "-t", "west", "--mask", "pii=hash", "--once"]
    monkeypatch.delenv("STREAMGOV_MASK_SALT", raising=False)
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "salt" in refused.output
    assert "Traceback" not in refused.output
    monkeypatch.setenv("EAST_WEST_SALT", "cli-salt")
    done = CliRunner().invoke(cli, [*args, "--mask-salt-env", "EAST_WEST_SALT"])
    assert done.exit_code == 0, done.output
    assert "cli-salt" not in done.output
    west = EmbeddedCluster(embedded_cluster_path("west"), name="west")
    (copied,) = west.fetch("east.users", 0, 0, max_records=10)
    west.close()
    value = fastavro.schemaless_reader(
        io.BytesIO((copied.value or b"")[5:]), fastavro.parse_schema(schema), None
    )
    assert value == {"email": mask_value("ann@example.com", "hash", b"cli-salt")}
