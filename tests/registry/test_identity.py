"""Which registrations are "the same schema": Confluent's canonical string decides, and it is
what the registry stores and answers. Logs written before keep the ids they handed out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from registry import errors
from registry.formats.base import SchemaType
from registry.service import SchemaRegistry
from registry.store import apply, initial_state
from streamgov.server import create_app

USER = {
    "type": "record",
    "name": "User",
    "namespace": "com.acme",
    "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
}
USER_CANONICAL = (
    '{"type":"record","name":"User","namespace":"com.acme",'
    '"fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}'
)
#: USER with its keys in another order, primitives as objects, and an explicit default order
USER_RESPELLED = json.dumps(
    {
        "fields": [
            {"type": {"type": "long"}, "name": "id", "order": "ascending"},
            {"name": "name", "type": "string"},
        ],
        "namespace": "com.acme",
        "name": "User",
        "type": "record",
    }
)
ORDER_JSON = {"type": "object", "properties": {"id": {"type": "integer"}}}
ORDER_JSON_REORDERED = {"properties": {"id": {"type": "integer"}}, "type": "object"}


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path, name="identity") as opened:
        yield opened


@pytest.fixture()
def registry(cluster: EmbeddedCluster) -> Iterator[SchemaRegistry]:
    instance = SchemaRegistry(cluster).start()
    yield instance
    instance.close()


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[TestClient]:
    with (
        EmbeddedCluster(tmp_path, name="identity-api") as cluster,
        TestClient(create_app(cluster), base_url="http://localhost") as client,
    ):
        yield client


def register(registry: SchemaRegistry, subject: str, schema: str, **body: Any) -> int:
    answer: dict[str, int] = registry.register(subject, {"schema": schema, **body})
    return answer["id"]


def test_whitespace_variants_get_one_id_and_the_canonical_string(registry: SchemaRegistry) -> None:
    pretty = register(registry, "a", json.dumps(USER, indent=4))
    compact = register(registry, "b", json.dumps(USER, separators=(",", ":")))
    spaced = register(registry, "c", json.dumps(USER))
    assert pretty == compact == spaced
    assert registry.schema_by_id(pretty)["schema"] == USER_CANONICAL
    assert registry.get_version("a", 1)["schema"] == USER_CANONICAL


def test_avro_key_order_and_primitive_spelling_do_not_make_a_new_schema(
    registry: SchemaRegistry,
) -> None:
    first = register(registry, "a", json.dumps(USER))
    assert register(registry, "a", USER_RESPELLED) == first
    assert registry.versions("a") == [1], "the same schema again adds no version"
    assert register(registry, "p", '{"type": "string"}') == register(registry, "q", '"string"')
    assert registry.schema_text_by_id(register(registry, "p", '"string"')) == '"string"'


def test_what_avro_keeps_still_tells_schemas_apart(registry: SchemaRegistry) -> None:
    documented = dict(USER, doc="a user")
    with_property = dict(USER, owner="team")
    ids = {
        register(registry, "a", json.dumps(USER)),
        register(registry, "b", json.dumps(documented)),
        register(registry, "c", json.dumps(with_property)),
    }
    assert len(ids) == 3


def test_json_schema_key_order_counts_unless_normalized(registry: SchemaRegistry) -> None:
    kind = {"schemaType": "JSON"}
    first = register(registry, "j1", json.dumps(ORDER_JSON, indent=2), **kind)
    assert register(registry, "j2", json.dumps(ORDER_JSON), **kind) == first
    assert registry.schema_text_by_id(first) == (
        '{"type":"object","properties":{"id":{"type":"integer"}}}'
    )
    reordered = register(registry, "j3", json.dumps(ORDER_JSON_REORDERED), **kind)
    assert reordered != first
    a = registry.register("n1", {"schema": json.dumps(ORDER_JSON), **kind}, normalize=True)
    b = registry.register(
        "n2", {"schema": json.dumps(ORDER_JSON_REORDERED), **kind}, normalize=True
    )
    assert a == b


def test_lookup_finds_a_respelled_schema(registry: SchemaRegistry) -> None:
    schema_id = register(registry, "a", json.dumps(USER, indent=2))
    found = registry.lookup("a", {"schema": USER_RESPELLED})
    assert (found["id"], found["version"], found["schema"]) == (schema_id, 1, USER_CANONICAL)
    with pytest.raises(errors.RegistryError) as excinfo:
        registry.lookup("a", {"schema": json.dumps(dict(USER, doc="other"))})
    assert excinfo.value.error_code == 40403


def test_normalize_registers_the_canonical_string_of_the_normalized_form(
    registry: SchemaRegistry,
) -> None:
    plain = register(registry, "a", json.dumps(dict(USER, doc="docs differ")))
    normalized = registry.register(
        "b", {"schema": json.dumps(dict(USER, doc="docs differ"))}, normalize=True
    )["id"]
    again = registry.register("c", {"schema": json.dumps(USER)}, normalize=True)["id"]
    assert normalized == again != plain
    text = registry.schema_text_by_id(normalized)
    assert json.loads(text)["fields"] == USER["fields"]
    found = registry.lookup("b", {"schema": USER_RESPELLED}, normalize=True)
    assert found["id"] == normalized


def test_the_rest_api_answers_the_canonical_string(api: TestClient) -> None:
    pretty = json.dumps(USER, indent=2)
    schema_id = api.post("/subjects/u-value/versions", json={"schema": pretty}).json()["id"]
    by_id = api.get(f"/schemas/ids/{schema_id}").json()
    assert by_id == {"schema": USER_CANONICAL}
    assert api.get(f"/schemas/ids/{schema_id}/schema").text == USER_CANONICAL
    looked_up = api.post("/subjects/u-value", json={"schema": USER_RESPELLED})
    assert looked_up.status_code == 200 and looked_up.json()["id"] == schema_id
    again = api.post("/subjects/other-value/versions", json={"schema": USER_RESPELLED})
    assert again.json() == {"id": schema_id}


# -- logs written before identities were canonical strings -------------------------------------
def legacy_register(subject: str, schema: str) -> dict[str, Any]:
    """A register command as it was written before: no `canonical` flag, text as sent."""
    return {
        "op": "register",
        "subject": subject,
        "schemaType": SchemaType.AVRO.value,
        "schema": schema,
        "references": [],
    }


def test_replaying_older_commands_keeps_their_ids() -> None:
    state = initial_state()
    assert apply(state, legacy_register("a", json.dumps(USER, indent=2)))["id"] == 1
    assert apply(state, legacy_register("b", json.dumps(USER)))["id"] == 2, "as handed out then"
    assert apply(state, legacy_register("c", json.dumps(USER, indent=2)))["id"] == 1
    assert state.schemas[1].schema == json.dumps(USER, indent=2), "stored text is unchanged"


def test_new_registrations_find_schemas_of_older_commands(cluster: EmbeddedCluster) -> None:
    writer = SchemaRegistry(cluster).start()
    try:
        writer._log.append(legacy_register("a", json.dumps(USER, indent=2)))
        writer._log.append(legacy_register("b", json.dumps(USER)))
    finally:
        writer.close()
    registry = SchemaRegistry(cluster).start()
    try:
        assert register(registry, "b", USER_RESPELLED) == 2, "b already has it, as id 2"
        assert registry.versions("b") == [1]
        assert register(registry, "a", USER_RESPELLED) == 1
        assert register(registry, "new", USER_RESPELLED) == 1, "the first id of that schema"
        assert registry.lookup("b", {"schema": USER_RESPELLED})["id"] == 2
        assert registry.schema_text_by_id(1) == json.dumps(USER, indent=2)
        assert register(registry, "other", '"int"') == 3
    finally:
        registry.close()
