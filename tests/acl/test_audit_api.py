"""`GET /audit` (readable with DESCRIBE on the cluster): newest first, filtered by principal,
action, result and time, paged; changes made through the Kafka listener (confluent-kafka's
AdminClient over SASL) are audited like REST changes; `/authorized-operations` says what the
caller may do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from acl.audit_query import AuditQuery, AuditQueryError
from acl.model import Acl, Operation, PatternType, Permission
from acl.model import ResourceType as Kind
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.acl.http import http
from tests.engine.listener.conftest import wait_until

SCHEMA = {"schema": json.dumps("string")}
ADMIN = ("admin", "admin-pw")
AUDITOR = ("auditor", "auditor-pw")
ALICE = ("alice", "alice-pw")


@dataclass
class Server:
    url: str
    bootstrap: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("audit-api")
    cluster = EmbeddedCluster(directory, name="audited")
    setup = AccessControl(cluster).start()
    for user, password in (ADMIN, AUDITOR, ALICE):
        setup.add_user(user, password)
    setup.add(
        [
            Acl(
                Kind.CLUSTER,
                "kafka-cluster",
                PatternType.LITERAL,
                "User:auditor",
                "*",
                Operation.DESCRIBE,
                Permission.ALLOW,
            ),
            Acl(
                Kind.TOPIC,
                "alice-",
                PatternType.PREFIXED,
                "User:alice",
                "*",
                Operation.WRITE,
                Permission.ALLOW,
            ),
        ]
    )
    setup.close()
    settings = ServerSettings(auth=True, super_users=("User:admin",), kafka_port=0)
    app = create_app(cluster, settings)
    try:
        with serve_in_thread(app) as url:
            yield Server(url, app.state.kafka_listener.bootstrap)
    finally:
        app.state.services.close()
        cluster.close()


def audit(server: Server, auth: tuple[str, str] = AUDITOR, **params: Any) -> httpx.Response:
    return http.get(f"{server.url}/audit", params=params, auth=auth)


def events_until(server: Server, found: Any, what: str, **params: Any) -> list[dict[str, Any]]:
    """The events matching `params` once `found(events)` holds (they are written in the
    background)."""
    seen: list[dict[str, Any]] = []

    def ready() -> bool:
        response = audit(server, **params)
        assert response.status_code == 200, response.text
        seen[:] = response.json()["data"]
        return bool(found(seen))

    wait_until(ready, 30, what)
    return seen


def principal(event: dict[str, Any]) -> str:
    return str(event["data"]["authenticationInfo"]["principal"])


def test_audit_filters_by_principal_result_action_and_time(server: Server) -> None:
    refused = http.post(f"{server.url}/subjects/payments-value/versions", json=SCHEMA, auth=ALICE)
    assert refused.status_code == 403
    done = http.post(f"{server.url}/subjects/payments-value/versions", json=SCHEMA, auth=ADMIN)
    assert done.status_code == 200
    denied = events_until(
        server, lambda e: e, "alice's denial", principal="User:alice", result="denied"
    )
    assert {principal(e) for e in denied} == {"User:alice"}
    assert all(e["data"]["authorizationInfo"]["granted"] is False for e in denied)
    assert any(e["subject"] == "SUBJECT:payments-value" for e in denied)
    changes = events_until(
        server, lambda e: e, "admin's change", principal="User:admin", action="POST /subjects"
    )
    assert all(e["type"] == "io.streamgov.management" for e in changes)
    assert audit(server, result="allowed", principal="User:alice").json()["data"] == []
    assert audit(server, since="2999-01-01T00:00:00Z").json()["data"] == []
    assert audit(server, until="2000-01-01T00:00:00Z").json()["data"] == []
    everything = audit(server, since="2000-01-01T00:00:00Z").json()["data"]
    assert len(everything) >= 2


def test_audit_pages_newest_first(server: Server) -> None:
    for _ in range(3):
        assert http.get(f"{server.url}/subjects").status_code == 401  # anonymous, audited
    events_until(server, lambda e: len(e) >= 3, "three events", principal="User:ANONYMOUS")
    every = audit(server, limit=1000).json()["data"]
    first = audit(server, limit=2).json()
    assert first["data"] == every[:2]
    second = audit(server, limit=2, before=first["next_before"]).json()
    assert second["data"] == every[2:4]
    times = [e["time"] for e in every]
    assert times == sorted(times, reverse=True)


def test_audit_needs_describe_on_the_cluster(server: Server) -> None:
    refused = audit(server, auth=ALICE)
    assert refused.status_code == 403
    assert refused.json()["message"] == "User:alice may not DESCRIBE CLUSTER kafka-cluster"
    assert audit(server, auth=ADMIN).status_code == 200
    assert http.get(f"{server.url}/audit").status_code == 401


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"result": "maybe"}, "result"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_filters_are_400_naming_them(
    server: Server, params: dict[str, str], named: str
) -> None:
    response = audit(server, **params)
    assert response.status_code in (400, 422)
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert named in body["message"]


def admin_client(server: Server, user: str, password: str) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": server.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256",
            "sasl.username": user,
            "sasl.password": password,
        }
    )


def test_listener_changes_are_audited_as_their_principal(server: Server) -> None:
    admin = admin_client(server, *ADMIN)
    admin.create_topics([NewTopic("listener-made", 2)])["listener-made"].result(30)
    binding = AclBinding(
        ResourceType.TOPIC,
        "listener-made",
        ResourcePatternType.LITERAL,
        "User:alice",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    admin.create_acls([binding])[binding].result(30)
    admin.delete_topics(["listener-made"])["listener-made"].result(30)
    alice = admin_client(server, *ALICE)
    with pytest.raises(Exception, match=r"(?i)authoriz"):
        alice.create_topics([NewTopic("not-alices", 1)])["not-alices"].result(30)

    def all_three(events: list[dict[str, Any]]) -> bool:
        methods = {e["data"]["methodName"] for e in events}
        return {"kafka.CreateTopics", "kafka.CreateAcls", "kafka.DeleteTopics"} <= methods

    changes = events_until(
        server, all_three, "the listener's changes", principal="User:admin", action="kafka."
    )
    by_method = {e["data"]["methodName"]: e for e in changes}
    assert by_method["kafka.CreateTopics"]["subject"] == "TOPIC:listener-made"
    assert by_method["kafka.DeleteTopics"]["subject"] == "TOPIC:listener-made"
    assert (
        by_method["kafka.CreateAcls"]["subject"]
        == "ACL:ALLOW User:alice READ TOPIC:listener-made LITERAL host *"
    )
    assert by_method["kafka.CreateTopics"]["data"]["requestMetadata"]["clientAddress"]
    # the refused create is a denial, never a change
    assert not [
        e
        for e in audit(server, principal="User:alice", result="allowed").json()["data"]
        if e["data"]["methodName"] == "kafka.CreateTopics"
    ]


def test_authorized_operations(server: Server) -> None:
    def operations(auth: tuple[str, str], kind: str, *names: str) -> list[list[str]]:
        response = http.get(
            f"{server.url}/authorized-operations",
            params={"resource_type": kind, "resource_name": list(names)},
            auth=auth,
        )
        assert response.status_code == 200, response.text
        return [d["authorized_operations"] for d in response.json()["data"]]

    assert operations(ALICE, "TOPIC", "alice-orders", "other") == [["DESCRIBE", "WRITE"], []]
    assert operations(AUDITOR, "CLUSTER") == [["DESCRIBE"]]
    assert "DELETE" in operations(ADMIN, "topic", "other")[0]
    bad = http.get(
        f"{server.url}/authorized-operations", params={"resource_type": "USER"}, auth=ALICE
    )
    assert bad.status_code == 400 and "resource_type" in bad.json()["message"]


def test_audit_query_rejects_bad_values() -> None:
    with pytest.raises(AuditQueryError, match="result"):
        AuditQuery.from_params({"result": "x"})
    query = AuditQuery.from_params({"action": "write", "result": "DENIED"})
    event = {
        "type": "io.streamgov.authorization",
        "time": "2026-12-05T03:00:00.000Z",
        "data": {
            "methodName": "authorize",
            "authenticationInfo": {"principal": "User:a"},
            "authorizationInfo": {"granted": False, "operation": "WRITE"},
        },
    }
    assert query.matches(event)
    assert not AuditQuery.from_params({"until": "2026-12-05T02:59:59Z"}).matches(event)
    assert AuditQuery.from_params({"since": "2026-12-05T03:00:00"}).matches(event)
