"""`streamgov acl` and `streamgov users` on an embedded cluster, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from streamgov.cli import cli


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def ok(*args: str, input: str | None = None) -> Result:
    result = run(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


def test_add_list_check_remove(streamgov_home: Path) -> None:
    ok("acl", "add", "--allow-principal", "User:alice", "--operation", "read",
       "--operation", "Write", "--topic", "orders")  # fmt: skip
    ok("acl", "add", "--deny-principal", "User:*", "--operation", "Write", "--topic", "ord",
       "--resource-pattern-type", "prefixed")  # fmt: skip
    listed = json.loads(ok("acl", "list", "--format", "json").stdout)
    assert len(listed) == 3

    allowed = run("acl", "check", "--principal", "User:alice", "--operation", "Describe",
                  "--topic", "orders")  # fmt: skip
    assert allowed.exit_code == 0 and allowed.stdout.startswith("ALLOWED")
    assert "ALLOW User:alice Read" in allowed.stdout

    denied = run("acl", "check", "--principal", "User:alice", "--operation", "Write",
                 "--topic", "orders")  # fmt: skip
    assert denied.exit_code == 1 and denied.stdout.startswith("DENIED")
    assert "DENY User:* Write" in denied.stdout

    nothing = run("acl", "check", "--principal", "User:bob", "--operation", "Read", "--group", "g")
    assert nothing.exit_code == 1 and "no ACL matched" in nothing.stdout
    everyone = run("acl", "check", "--principal", "User:bob", "--operation", "Read", "--group",
                   "g", "--allow-everyone-if-no-acl")  # fmt: skip
    assert everyone.exit_code == 0
    superuser = run("acl", "check", "--principal", "User:alice", "--operation", "Write",
                    "--topic", "orders", "--super-user", "User:alice")  # fmt: skip
    assert superuser.exit_code == 0 and "super user" in superuser.stdout

    removed = ok("acl", "remove", "--topic", "orders", "--format", "json")
    assert len(json.loads(removed.stdout)) == 2
    assert len(json.loads(ok("acl", "list", "--format", "json").stdout)) == 1


def test_usage_errors_exit_2(streamgov_home: Path) -> None:
    bad_op = run("acl", "check", "--principal", "User:a", "--operation", "IDEMPOTENT-WRITE",
                 "--topic", "t")  # fmt: skip
    assert bad_op.exit_code == 2 and "unknown operation" in bad_op.output
    two = run("acl", "check", "--principal", "User:a", "--operation", "Read", "--topic", "t",
              "--group", "g")  # fmt: skip
    assert two.exit_code == 2
    bad_principal = run("acl", "add", "--allow-principal", "alice", "--topic", "t")
    assert bad_principal.exit_code == 2 and "Type:name" in bad_principal.output
    invalid = run("acl", "add", "--allow-principal", "User:a", "--operation", "Read", "--cluster")
    assert invalid.exit_code == 2 and "not valid on CLUSTER" in invalid.output
    assert "Traceback" not in invalid.output


def test_producer_and_consumer_shortcuts(streamgov_home: Path) -> None:
    ok("acl", "add", "--allow-principal", "User:app", "--consumer", "--topic", "in",
       "--group", "app")  # fmt: skip
    ok("acl", "add", "--allow-principal", "User:app", "--producer", "--topic", "out")
    listed = json.loads(ok("acl", "list", "--principal", "User:app", "--format", "json").stdout)
    got = {(a["resource_type"], a["resource_name"], a["operation"]) for a in listed}
    assert got == {
        ("TOPIC", "in", "READ"),
        ("TOPIC", "in", "DESCRIBE"),
        ("GROUP", "app", "READ"),
        ("TOPIC", "out", "WRITE"),
        ("TOPIC", "out", "DESCRIBE"),
        ("TOPIC", "out", "CREATE"),
    }
    assert (
        run("acl", "add", "--allow-principal", "User:x", "--consumer", "--topic", "in").exit_code
        == 2
    )


def test_users(streamgov_home: Path) -> None:
    ok("users", "add", "alice", "--password-stdin", input="s3cret\n")
    users = json.loads(ok("users", "list", "--format", "json").stdout)
    assert users == [
        {"name": "alice", "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"], "tokens": 0}
    ]
    token = ok("users", "token", "alice").stdout.strip()
    assert token.startswith("sgt_")
    assert json.loads(ok("users", "list", "--format", "json").stdout)[0]["tokens"] == 1
    stored = b"".join(p.read_bytes() for p in streamgov_home.rglob("*") if p.is_file())
    assert b"s3cret" not in stored and token.encode() not in stored
    ok("users", "delete", "alice")
    missing = run("users", "delete", "alice")
    assert missing.exit_code == 1 and "no user" in missing.output
    bad = run("users", "add", "bad name", "--password-stdin", input="x\n")
    assert bad.exit_code == 1 and "user name" in bad.output
