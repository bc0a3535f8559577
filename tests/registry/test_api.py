"""The REST layer: Confluent's wire details (content types, lenient bodies, booleans, trailing
slashes, limits) and its error answers. Runs the real application in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.embedded import EmbeddedCluster
from registry.api import MEDIA_TYPE
from streamgov.server import ServerSettings, create_app
from tests.registry.strategies import avro_evolutions

RECORD = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
#: how the registry stores and answers RECORD: its canonical string (compact, Avro's key order)
RECORD_CANONICAL = '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}'


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    cluster = EmbeddedCluster(Path(tmp_path_factory.mktemp("api")), name="api")
    app = create_app(cluster, ServerSettings(max_request_bytes=3 * 1024 * 1024))
    with TestClient(app, base_url="http://localhost") as client:
        yield client
    cluster.close()


JSON = {"Content-Type": "application/json"}


def subject() -> str:
    return f"api-{uuid.uuid4().hex[:10]}"


def assert_error(response: object, status: int, code: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "text")  # noqa: B009
    body: dict[str, object] = getattr(response, "json")()  # noqa: B009
    assert body["error_code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_answers_use_the_registry_content_type(api: TestClient) -> None:
    response = api.get("/schemas/types")
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.json() == ["AVRO", "JSON", "PROTOBUF"]
    error = api.get("/subjects/nope/versions")
    assert error.headers["content-type"] == MEDIA_TYPE
    assert_error(error, 404, 40401)


@pytest.mark.parametrize(
    "content_type",
    [
        MEDIA_TYPE,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
        "application/json; charset=utf-8",
    ],
)
def test_request_bodies_are_read_in_confluents_content_types(
    api: TestClient, content_type: str
) -> None:
    response = api.post(
        f"/subjects/{subject()}/versions",
        content=json.dumps({"schema": RECORD}).encode(),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["id"], int)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_bodies_a_web_page_could_send_are_refused_with_415(
    api: TestClient, content_type: str | None
) -> None:
    """A form post or a no-cors fetch needs no CORS preflight: it must not reach the registry."""
    name = subject()
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"schema": RECORD}).encode()
    for path in (f"/subjects/{name}/versions", "/config", f"/mode/{name}"):
        method = "POST" if path.endswith("versions") else "PUT"
        response = api.request(method, path, content=body, headers=headers)
        assert_error(response, 415, 415)
    assert name not in api.get("/subjects").json()


def test_unknown_properties_are_tolerated_and_metadata_rule_set_returned_as_given(
    api: TestClient,
) -> None:
    name = subject()
    metadata = {"properties": {"owner": "team-a", "confluent:version": "1"}}
    rule_set = {"domainRules": [{"name": "r", "kind": "CONDITION", "type": "CEL"}]}
    body = {"schema": RECORD, "futureField": [1, 2], "metadata": metadata, "ruleSet": rule_set}
    assert api.post(f"/subjects/{name}/versions", json=body).status_code == 200
    version = api.get(f"/subjects/{name}/versions/1").json()
    assert version["metadata"] == metadata
    assert version["ruleSet"] == rule_set
    found = api.get(f"/subjects/{name}/metadata", params={"key": "owner", "value": "team-a"})
    assert found.status_code == 200 and found.json()["version"] == 1
    assert_error(
        api.get(f"/subjects/{name}/metadata", params={"key": "owner", "value": "x"}), 404, 40403
    )


def test_boolean_query_parameters_are_case_insensitive(api: TestClient) -> None:
    name = subject()
    api.post(f"/subjects/{name}/versions", json={"schema": RECORD}).raise_for_status()
    assert api.delete(f"/subjects/{name}/versions/1").json() == 1
    for spelling in ("true", "True", "TRUE"):
        assert api.get(f"/subjects/{name}/versions", params={"deleted": spelling}).json() == [1]
    assert_error(api.get(f"/subjects/{name}/versions", params={"deleted": "False"}), 404, 40401)
    only = api.get("/subjects", params={"deleted_only": "True", "subjectPrefix": name}).json()
    assert only == [name]
    assert api.get("/subjects", params={"deletedOnly": "true", "subjectPrefix": name}).json() == [
        name
    ]


def test_trailing_slash_variants(api: TestClient) -> None:
    name = subject()
    api.post(f"/subjects/{name}/versions/", json={"schema": RECORD}).raise_for_status()
    check = api.post(f"/compatibility/subjects/{name}/versions/", json={"schema": RECORD})
    assert check.status_code == 200 and check.json() == {"is_compatible": True}
    assert name in api.get("/subjects/").json()
    assert api.get("/config/").json() == api.get("/config").json()


def test_associations_answer_404_so_clients_fall_back(api: TestClient) -> None:
    response = api.get(
        "/associations/resources/-/orders",
        params={"resourceType": "topic", "associationType": "value"},
    )
    assert_error(response, 404, 40410)


def test_raw_schema_endpoints_return_the_text_itself(api: TestClient) -> None:
    name = subject()
    schema_id = api.post(f"/subjects/{name}/versions", json={"schema": RECORD}).json()["id"]
    assert api.get(f"/schemas/ids/{schema_id}/schema").text == RECORD_CANONICAL
    assert api.get(f"/subjects/{name}/versions/latest/schema").text == RECORD_CANONICAL
    assert api.get(f"/subjects/{name}/versions/-1").json()["version"] == 1
    with_max = api.get(f"/schemas/ids/{schema_id}", params={"fetchMaxId": "true"}).json()
    assert with_max["maxId"] >= schema_id


@pytest.mark.parametrize("version", ["abc", "0", "2147483648", "-2", "1.5"])
def test_invalid_versions_are_42202(api: TestClient, version: str) -> None:
    name = subject()
    api.post(f"/subjects/{name}/versions", json={"schema": RECORD}).raise_for_status()
    body = assert_error(api.get(f"/subjects/{name}/versions/{version}"), 422, 42202)
    assert f"'{version}'" in str(body["message"])


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"{not json", 400, 400),
        (b"", 422, 422),
        (b"[1, 2]", 422, 422),
        (b'{"schema": 42}', 422, 422),
        (b'{"schema": "{\\"type\\": \\"nope\\"}"}', 422, 42201),
        (b'{"schema": "not json at all"}', 422, 42201),
        (b'{"schema": ""}', 422, 42201),
        (b'{"schema": "\\"int\\"", "schemaType": "PROTOBUF"}', 422, 42201),
        (b'{"schema": "\\"int\\"", "schemaType": "XML"}', 422, 42201),
        (b'{"schema": "\\"int\\"", "references": "x"}', 422, 422),
        (b'{"schema": "\\"int\\"", "references": [{"name": "a"}]}', 422, 42201),
        (b'{"schema": "\\"int\\"", "id": "seven"}', 422, 422),
        (b"[" * 100_000 + b"]" * 100_000, 400, 400),
    ],
)
def test_malformed_requests_are_4xx_with_a_message(
    api: TestClient, payload: bytes, status: int, code: int
) -> None:
    response = api.post(f"/subjects/{subject()}/versions", content=payload, headers=JSON)
    assert_error(response, status, code)


def test_size_limits(api: TestClient) -> None:
    too_big_request = b'{"schema": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    body = assert_error(
        api.post(f"/subjects/{subject()}/versions", content=too_big_request), 413, 413
    )
    assert "limit" in str(body["message"])
    fields = [{"name": f"f{i}", "type": "string", "doc": "d" * 100} for i in range(12_000)]
    huge = json.dumps({"type": "record", "name": "Huge", "fields": fields})
    assert len(huge) > 1024 * 1024
    body = assert_error(
        api.post(f"/subjects/{subject()}/versions", json={"schema": huge}), 422, 42201
    )
    assert "limit" in str(body["message"])


def test_invalid_subject_name(api: TestClient) -> None:
    assert_error(api.post("/subjects/bad%01name/versions", json={"schema": RECORD}), 422, 42208)


def test_config_default_to_global_and_invalid_values(api: TestClient) -> None:
    name = subject()
    assert_error(api.get(f"/config/{name}"), 404, 40408)
    fallback = api.get(f"/config/{name}", params={"defaultToGlobal": "true"}).json()
    assert fallback["compatibilityLevel"] == api.get("/config").json()["compatibilityLevel"]
    assert api.put(f"/config/{name}", json={"compatibility": "forward"}).json() == {
        "compatibility": "FORWARD"
    }
    assert api.get(f"/config/{name}").json() == {"compatibilityLevel": "FORWARD"}
    assert_error(api.put(f"/config/{name}", json={"compatibility": "maybe"}), 422, 42203)
    assert_error(api.put(f"/config/{name}", json={}), 422, 42203)
    assert_error(api.put(f"/mode/{name}", json={"mode": "sometimes"}), 422, 42204)
    assert api.get(f"/mode/{name}", params={"defaultToGlobal": "true"}).json() == {
        "mode": "READWRITE"
    }


def test_normalize_gives_equivalent_spellings_one_id(api: TestClient) -> None:
    name = subject()
    first = api.post(f"/subjects/{name}/versions?normalize=true", json={"schema": '"string"'})
    second = api.post(
        f"/subjects/{name}/versions?normalize=True", json={"schema": '{"type": "string"}'}
    )
    assert first.json()["id"] == second.json()["id"]
    found = api.post(f"/subjects/{name}?normalize=true", json={"schema": '{"type":"string"}'})
    assert found.status_code == 200 and found.json()["version"] == 1


def test_import_mode_over_rest(api: TestClient) -> None:
    name = subject()
    assert api.put(f"/mode/{name}", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
    unique = json.dumps(
        {"type": "record", "name": "Imp", "namespace": name.replace("-", "_"), "fields": []}
    )
    imported = api.post(
        f"/subjects/{name}/versions", json={"schema": unique, "id": 50_000, "version": 3}
    )
    assert imported.json() == {"id": 50_000}
    assert api.get(f"/subjects/{name}/versions").json() == [3]
    clash = api.post(
        f"/subjects/{name}/versions",
        json={"schema": '"int"', "id": 50_000, "version": 4},
    )
    assert_error(clash, 422, 42205)
    assert_error(api.post(f"/subjects/{name}/versions", json={"schema": '"int"'}), 422, 42205)
    assert api.delete(f"/mode/{name}").json() == {"mode": "IMPORT"}
    assert_error(
        api.post(f"/subjects/{name}/versions", json={"schema": '"long"', "id": 7}), 422, 42205
    )


def test_json_schema_subjects_and_listing(api: TestClient) -> None:
    name = subject()
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})
    out = api.post(f"/subjects/{name}/versions", json={"schema": schema, "schemaType": "JSON"})
    assert out.status_code == 200, out.text
    version = api.get(f"/subjects/{name}/versions/1").json()
    assert version["schemaType"] == "JSON"
    listed = api.get("/schemas", params={"subjectPrefix": name, "latestOnly": "true"}).json()
    assert [item["subject"] for item in listed] == [name]


def test_openapi_document_lists_the_registry(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/subjects",
        "/subjects/{subject}/versions",
        "/subjects/{subject}/versions/{version}",
        "/schemas/ids/{id}",
        "/compatibility/subjects/{subject}/versions/{version}",
        "/config/{subject}",
        "/mode",
    ):
        assert path in paths


def test_unknown_registry_paths_and_methods_answer_in_the_registry_shape(api: TestClient) -> None:
    assert_error(api.get("/subjects/a/b/versions"), 404, 404)
    # an encoded slash is part of the subject, as in Confluent's registry
    assert_error(api.get("/subjects/a%2Fb/versions"), 404, 40401)
    assert_error(api.patch("/subjects"), 405, 405)
    assert_error(api.get("/schemas/ids/not-a-number"), 422, 422)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(avro_evolutions(steps=3), st.sampled_from(["BACKWARD", "FORWARD_TRANSITIVE", "FULL"]))
def test_evolving_real_schemas_never_breaks_the_server(
    api: TestClient, evolution: tuple[object, object], level: str
) -> None:
    name = subject()
    api.put(f"/config/{name}", json={"compatibility": level}).raise_for_status()
    old, new = (json.dumps(schema) for schema in evolution)
    assert api.post(f"/subjects/{name}/versions", json={"schema": old}).status_code == 200
    check = api.post(f"/compatibility/subjects/{name}/versions?verbose=true", json={"schema": new})
    assert check.status_code in (200, 422), check.text
    register = api.post(f"/subjects/{name}/versions", json={"schema": new})
    assert register.status_code in (200, 409, 422), register.text
    if check.status_code == 200:
        # the test endpoint and registration agree
        assert (register.status_code == 200) == check.json()["is_compatible"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/subjects/s/versions", {"GET", "POST"}),
        ("PATCH", "/config", {"GET", "PUT", "DELETE"}),
        ("POST", "/schemas/ids/1", {"GET"}),
    ],
)
def test_an_unserved_method_names_every_served_one(
    api: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.json()["error_code"] == 405
    served = {item.strip() for item in response.headers["allow"].split(",")}
    assert allowed <= served
    assert method not in served
