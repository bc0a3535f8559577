"""Audit events in `_audit`: denials (REST and the authorizer), allowed REST changes and the
CLI's ACL changes, as CloudEvents; read back by `streamgov audit`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from acl.audit import AUTHORIZATION, MANAGEMENT, AuditLog
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from streamgov.cli import cli
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.acl.http import http
from tests.engine.listener.conftest import wait_until

AVRO = json.dumps({"type": "record", "name": "A", "fields": [{"name": "a", "type": "int"}]})


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_cli_changes_are_audited_as_the_local_operator(streamgov_home: Path) -> None:
    assert run("acl", "add", "--allow-principal", "User:a", "--operation", "Read",
               "--topic", "t").exit_code == 0  # fmt: skip
    assert run("users", "add", "bob", "--password-stdin", input="pw\n").exit_code == 0
    events = json.loads(run("audit", "--format", "json").stdout)
    assert [e["data"]["methodName"] for e in events] == ["acl.add", "user.set"]
    first = events[0]
    assert first["specversion"] == "1.0" and first["type"] == MANAGEMENT
    assert first["data"]["authenticationInfo"]["principal"] == "User:local-operator"
    assert "pw" not in json.dumps(events)
    table = run("audit").stdout
    assert "CHANGED" in table and "User:local-operator" in table


def test_rest_denials_and_changes_are_audited(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "c", name="audited")
    setup = AccessControl(cluster).start()
    setup.add_user("admin", "admin-pw")
    setup.add_user("eve", "eve-pw")
    setup.close()
    app = create_app(cluster, ServerSettings(auth=True, super_users=("User:admin",)))
    try:
        with serve_in_thread(app) as url:
            body = {"schema": AVRO}
            ok = http.post(
                f"{url}/subjects/s-value/versions", json=body, auth=("admin", "admin-pw")
            )
            assert ok.status_code == 200
            denied = http.post(
                f"{url}/subjects/s-value/versions", json=body, auth=("eve", "eve-pw")
            )
            assert denied.status_code == 403
            assert http.get(f"{url}/subjects").status_code == 401
            log = AuditLog(cluster)

            def three() -> bool:
                return len(list(log.read())) >= 3

            wait_until(three, 30, "three audit events")
            events = list(log.read())
    finally:
        app.state.services.close()
        cluster.close()
    kinds = [(e["type"], e["data"]["authenticationInfo"]["principal"]) for e in events]
    assert (MANAGEMENT, "User:admin") in kinds
    assert (AUTHORIZATION, "User:eve") in kinds
    assert (AUTHORIZATION, "User:ANONYMOUS") in kinds
    eve = next(e for e in events if e["data"]["authenticationInfo"]["principal"] == "User:eve")
    assert eve["data"]["authorizationInfo"] == {
        "granted": False,
        "operation": "WRITE",
        "resourceType": "SUBJECT",
        "resourceName": "s-value",
    }
    assert eve["subject"] == "SUBJECT:s-value"
