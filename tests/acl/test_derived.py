"""ACLs from the catalog, canned roles and the single-writer rule: pure, then through
`streamgov plan`/`apply` and `streamgov acl add` on an embedded cluster."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from acl.derived import (
    SingleWriterError,
    catalog_acls,
    check_single_writer,
    owners_from,
    role_acls,
)
from acl.model import Acl, AclError, Operation, PatternType, Permission, ResourceType
from catalog.model import Service, Stream
from streamgov.cli import cli

CHECKOUT = Service("checkout", inputs=("carts",), outputs=("orders",))
REPORTING = Service("reporting", inputs=("orders",), groups=("reports",), principals=("rep",))
STREAMS = [Stream(topic="orders", owner="checkout"), Stream(topic="carts", owner="web")]


def summary(acls: list[Acl]) -> set[tuple[str, str, str, str, str]]:
    return {(a.principal, a.resource_type, a.pattern_type, a.name, a.operation) for a in acls}


def test_a_service_reads_inputs_writes_what_it_owns_and_manages_its_internal_topics() -> None:
    got = summary(catalog_acls([CHECKOUT, REPORTING], STREAMS))
    assert got == {
        ("User:checkout", "TOPIC", "LITERAL", "carts", "READ"),
        ("User:checkout", "GROUP", "LITERAL", "checkout", "READ"),
        ("User:checkout", "TOPIC", "LITERAL", "orders", "WRITE"),
        ("User:checkout", "TOPIC", "PREFIXED", "checkout-", "ALL"),
        ("User:reporting", "TOPIC", "LITERAL", "orders", "READ"),
        ("User:reporting", "GROUP", "LITERAL", "reports", "READ"),
        ("User:reporting", "TOPIC", "PREFIXED", "reporting-", "ALL"),
        ("User:rep", "TOPIC", "LITERAL", "orders", "READ"),
        ("User:rep", "GROUP", "LITERAL", "reports", "READ"),
        ("User:rep", "TOPIC", "PREFIXED", "reporting-", "ALL"),
    }


def test_roles() -> None:
    acls = role_acls("consumer", "User:x", {ResourceType.TOPIC: ["t"], ResourceType.GROUP: ["g"]})
    assert summary(acls) == {
        ("User:x", "TOPIC", "LITERAL", "t", "READ"),
        ("User:x", "TOPIC", "LITERAL", "t", "DESCRIBE"),
        ("User:x", "GROUP", "LITERAL", "g", "READ"),
    }
    with pytest.raises(AclError, match="unknown role"):
        role_acls("admin", "User:x", {})


def grant(
    principal: str, name: str, op: Operation, pattern: PatternType = PatternType.LITERAL
) -> Acl:
    return Acl(ResourceType.TOPIC, name, pattern, principal, "*", op, Permission.ALLOW)


@pytest.mark.parametrize(
    "acl",
    [
        grant("User:intruder", "orders", Operation.WRITE),
        grant("User:intruder", "orders", Operation.ALL),
        grant("User:*", "ord", Operation.WRITE, PatternType.PREFIXED),
        grant("User:intruder", "*", Operation.WRITE),
    ],
)
def test_single_writer_refuses_writes_by_others(acl: Acl) -> None:
    owners = owners_from([CHECKOUT, REPORTING], STREAMS)
    with pytest.raises(SingleWriterError, match="owned by User:checkout"):
        check_single_writer([acl], owners)


@pytest.mark.parametrize(
    "acl",
    [
        grant("User:checkout", "orders", Operation.WRITE),
        grant("User:intruder", "orders", Operation.READ),
        grant("User:intruder", "other", Operation.WRITE),
        Acl(
            ResourceType.TOPIC,
            "orders",
            PatternType.LITERAL,
            "User:intruder",
            "*",
            Operation.WRITE,
            Permission.DENY,
        ),
    ],
)
def test_single_writer_allows_the_rest(acl: Acl) -> None:
    check_single_writer([acl], owners_from([CHECKOUT, REPORTING], STREAMS))


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


GOVERNANCE = """
streams:
  orders: {owner: checkout}
services:
  checkout: {inputs: [carts], outputs: [orders]}
acls:
  - principal: User:analyst
    role: consumer
    topics: [orders]
    groups: [analysts]
  - principal: User:mallory
    operations: [Read]
    topic: orders
    permission: deny
"""


def test_plan_shows_and_apply_creates_derived_and_declared_acls(
    streamgov_home: Path, tmp_path: Path
) -> None:
    config = tmp_path / "streamgov.yaml"
    config.write_text(textwrap.dedent(GOVERNANCE))
    planned = run("plan", "-f", str(config), "--format", "json")
    assert planned.exit_code == 2, planned.output
    changes = [c for c in json.loads(planned.stdout)["changes"] if c["kind"] == "acl"]
    names = {c["name"] for c in changes}
    assert "ALLOW User:checkout WRITE TOPIC:LITERAL:orders" in names
    assert "ALLOW User:analyst READ TOPIC:LITERAL:orders" in names
    assert "DENY User:mallory READ TOPIC:LITERAL:orders" in names
    applied = run("apply", "-f", str(config), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    check = ("acl", "check", "--operation", "Write", "--topic", "orders", "--principal")
    assert run(*check, "User:checkout").exit_code == 0
    assert run(*check, "User:analyst").exit_code == 1
    again = run("plan", "-f", str(config), "--format", "json")
    assert [c for c in json.loads(again.stdout)["changes"] if c["kind"] == "acl"] == []


def test_a_write_grant_to_a_non_owner_is_refused_unless_forced(
    streamgov_home: Path, tmp_path: Path
) -> None:
    config = tmp_path / "streamgov.yaml"
    config.write_text(textwrap.dedent(GOVERNANCE))
    assert run("apply", "-f", str(config), "--auto-approve").exit_code == 0
    grant_args = ("acl", "add", "--allow-principal", "User:intruder", "--operation", "Write",
                  "--topic", "orders")  # fmt: skip
    refused = run(*grant_args)
    assert refused.exit_code == 1
    assert "single writer" in refused.output and "User:checkout" in refused.output
    assert "Traceback" not in refused.output
    assert run(*grant_args, "--force").exit_code == 0

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent(GOVERNANCE)
        + "  - principal: User:intruder\n    operations: [Write]\n    topic: orders\n"
    )
    planned = run("plan", "-f", str(bad))
    assert planned.exit_code == 1 and "single writer" in planned.output
    assert "bad.yaml:" in planned.output
    forced = tmp_path / "forced.yaml"
    forced.write_text(bad.read_text() + "    force: true\n")
    forced_plan = run("plan", "-f", str(forced))
    assert forced_plan.exit_code == 0, forced_plan.output  # granted by --force above already
