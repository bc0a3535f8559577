"""`streamgov acl sync` against streamgov's own Kafka listener playing the external cluster
(tansu has no ACL API): created, deleted, idempotent, SUBJECT ACLs left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from acl.sync import diff
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
from streamgov.cli import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def acl(name: str, principal: str, kind: ResourceType = ResourceType.TOPIC) -> Acl:
    return Acl(kind, name, PatternType.LITERAL, principal, "*", Operation.READ, Permission.ALLOW)


def test_diff_leaves_subjects_here() -> None:
    ours = [acl("a", "User:x"), acl("s-value", "User:x", ResourceType.SUBJECT)]
    plan = diff(ours, [acl("b", "User:y")])
    assert plan.create == (acl("a", "User:x"),) and plan.delete == (acl("b", "User:y"),)


@pytest.fixture()
def external(tmp_path: Path) -> Iterator[tuple[str, AccessControl]]:
    cluster = EmbeddedCluster(tmp_path / "external", maintenance_interval_s=None)
    access = AccessControl(cluster).start()
    listener = KafkaListener(cluster, "127.0.0.1", 0)
    listener.broker.acl_admin = access
    listener.start()
    try:
        yield listener.bootstrap, access
    finally:
        listener.stop()
        access.close()
        cluster.close()


def test_sync_makes_the_external_acls_match(
    streamgov_home: Path, external: tuple[str, AccessControl]
) -> None:
    bootstrap, theirs = external
    theirs.add([acl("stray", "User:old")])
    assert run("acl", "add", "--allow-principal", "User:app", "--consumer", "--topic", "orders",
               "--group", "app").exit_code == 0  # fmt: skip
    assert run("acl", "add", "--allow-principal", "User:app", "--operation", "Write",
               "--subject", "orders-value").exit_code == 0  # fmt: skip

    dry = run("acl", "sync", "--bootstrap", bootstrap, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would create 3, deleted 1" in dry.output
    theirs.sync()
    assert theirs.acls() == [acl("stray", "User:old")]

    done = run("acl", "sync", "--bootstrap", bootstrap)
    assert done.exit_code == 0, done.output
    assert "- ALLOW User:old Read" in done.output
    theirs.sync()
    got = {(a.resource_type, a.name, a.operation) for a in theirs.acls()}
    assert got == {
        (ResourceType.TOPIC, "orders", Operation.READ),
        (ResourceType.TOPIC, "orders", Operation.DESCRIBE),
        (ResourceType.GROUP, "app", Operation.READ),
    }
    again = run("acl", "sync", "--bootstrap", bootstrap)
    assert "created 0, deleted 0" in again.output


def test_sync_to_nowhere_fails_in_one_line(streamgov_home: Path) -> None:
    result = run("acl", "sync", "--bootstrap", "127.0.0.1:1", "--timeout", "2")
    assert result.exit_code == 1 and "Traceback" not in result.output
