"""REST with `--auth`: the real confluent-kafka SchemaRegistryClient with
`basic.auth.user.info`, bearer tokens, 401 and 403 in the one error shape (the 403 naming
the missing permission), the ACL API in REST Proxy v3's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.acl.http import http

AVRO = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "a", "type": "int"}]})


@dataclass
class Server:
    url: str
    access: AccessControl
    token: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("rest-auth")
    cluster = EmbeddedCluster(directory, name="secured")
    setup = AccessControl(cluster).start()
    setup.add_user("alice", "alice-pw")
    setup.add_user("bob", "bob-pw")
    setup.add_user("admin", "admin-pw")
    setup.add_user("checkout", "checkout-pw")
    token = setup.issue_token("bob")
    setup.add(
        [
            Acl(
                ResourceType.SUBJECT,
                "orders-",
                PatternType.PREFIXED,
                "User:alice",
                "*",
                Operation.ALL,
                Permission.ALLOW,
            ),
            Acl(
                ResourceType.SUBJECT,
                "orders-value",
                PatternType.LITERAL,
                "User:bob",
                "*",
                Operation.READ,
                Permission.ALLOW,
            ),
        ]
    )
    setup.close()
    app = create_app(cluster, ServerSettings(auth=True, super_users=("User:admin",)))
    try:
        with serve_in_thread(app) as url:
            yield Server(url, app.state.access, token)
    finally:
        app.state.services.close()
        cluster.close()


def client(server: Server, user: str, password: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": server.url, "basic.auth.user.info": f"{user}:{password}"})


def test_schema_registry_client_with_basic_auth(server: Server) -> None:
    alice = client(server, "alice", "alice-pw")
    schema_id = alice.register_schema("orders-value", Schema(AVRO, "AVRO"))
    assert alice.get_latest_version("orders-value").schema_id == schema_id
    with pytest.raises(SchemaRegistryError) as refused:
        alice.register_schema("payments-value", Schema(AVRO, "AVRO"))
    assert refused.value.http_status_code == 403
    assert refused.value.error_message == "User:alice may not WRITE SUBJECT payments-value"
    assert refused.value.error_code == 40301


def test_wrong_or_missing_credentials_are_401(server: Server) -> None:
    with pytest.raises(SchemaRegistryError) as wrong:
        client(server, "alice", "nope").get_subjects()
    assert wrong.value.http_status_code == 401
    missing = http.get(f"{server.url}/subjects")
    assert missing.status_code == 401
    assert missing.json()["error_code"] == 40101 and "authentication" in missing.json()["message"]
    assert missing.headers["www-authenticate"].startswith("Basic")


def test_bearer_token(server: Server) -> None:
    alice = client(server, "alice", "alice-pw")
    alice.register_schema("orders-value", Schema(AVRO, "AVRO"))
    headers = {"Authorization": f"Bearer {server.token}"}
    got = http.get(f"{server.url}/subjects/orders-value/versions/latest", headers=headers)
    assert got.status_code == 200, got.text
    denied = http.delete(f"{server.url}/subjects/orders-value", headers=headers)
    assert denied.status_code == 403
    assert denied.json()["message"] == "User:bob may not DELETE SUBJECT orders-value"
    forged = {"Authorization": f"Bearer {server.token[:-2]}xx"}
    assert http.get(f"{server.url}/subjects", headers=forged).status_code == 401


def test_config_needs_alter_configs(server: Server) -> None:
    auth = ("alice", "alice-pw")
    body = {"compatibility": "NONE"}
    assert http.put(f"{server.url}/config/orders-value", json=body, auth=auth).status_code == 200
    refused = http.put(f"{server.url}/config", json=body, auth=auth)
    assert refused.status_code == 403
    assert refused.json()["message"] == "User:alice may not ALTER_CONFIGS CLUSTER kafka-cluster"
    admin = http.put(f"{server.url}/config", json=body, auth=("admin", "admin-pw"))
    assert admin.status_code == 200


def test_acl_api_in_rest_proxy_shape(server: Server) -> None:
    base = f"{server.url}/v3/clusters/secured/acls"
    acl = {
        "resource_type": "TOPIC",
        "resource_name": "orders",
        "pattern_type": "LITERAL",
        "principal": "User:carol",
        "host": "*",
        "operation": "READ",
        "permission": "ALLOW",
    }
    admin = ("admin", "admin-pw")
    assert http.post(base, json=acl, auth=admin).status_code == 201
    listed = http.get(base, params={"principal": "User:carol"}, auth=admin).json()
    assert listed["kind"] == "KafkaAclList"
    assert [{k: e[k] for k in acl} for e in listed["data"]] == [acl]
    assert listed["data"][0]["kind"] == "KafkaAcl" and listed["data"][0]["cluster_id"] == "secured"
    refused = http.get(base, auth=("alice", "alice-pw"))
    assert refused.status_code == 403
    assert refused.json()["message"] == "User:alice may not DESCRIBE CLUSTER kafka-cluster"
    bad = http.post(base, json={**acl, "operation": "FLY"}, auth=admin)
    assert bad.status_code == 400 and "unknown operation" in bad.json()["message"]
    incomplete = http.delete(base, params={"resource_type": "TOPIC"}, auth=admin)
    assert incomplete.status_code == 400
    query = {k: acl[k] for k in ("resource_type", "pattern_type", "operation", "permission")}
    deleted = http.delete(base, params=query, auth=admin).json()
    assert [e["principal"] for e in deleted["data"]] == ["User:carol"]
    assert http.get(base, params={"principal": "User:carol"}, auth=admin).json()["data"] == []


def test_catalog_changes_by_the_owner_or_with_alter(server: Server) -> None:
    stream = f"{server.url}/catalog/streams/orders"
    made = http.patch(stream, json={"owner": "checkout"}, auth=("admin", "admin-pw"))
    assert made.status_code == 200, made.text
    owner = http.patch(
        stream, json={"description": "placed orders"}, auth=("checkout", "checkout-pw")
    )
    assert owner.status_code == 200, owner.text
    other = http.patch(stream, json={"description": "mine now"}, auth=("alice", "alice-pw"))
    assert other.status_code == 403
    assert other.json()["message"] == "User:alice may not ALTER TOPIC orders"
