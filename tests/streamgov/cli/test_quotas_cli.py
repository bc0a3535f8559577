"""`streamgov quotas` on an embedded cluster, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from streamgov.cli import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def test_set_list_describe_remove(streamgov_home: Path) -> None:
    ok("quotas", "set", "--user", "User:alice", "--producer-byte-rate", "1048576")
    ok("quotas", "set", "--default-user", "--default-client-id",
       "--consumer-byte-rate", "5000", "--request-percentage", "25.5")  # fmt: skip
    ok("quotas", "set", "--client-id", "app", "--producer-byte-rate", "10")
    listed = json.loads(ok("quotas", "list", "--format", "json").stdout)
    assert listed == [
        {"entity": {"user": "alice"}, "values": {"producer_byte_rate": 1048576.0}},
        {
            "entity": {"user": None, "client-id": None},
            "values": {"consumer_byte_rate": 5000.0, "request_percentage": 25.5},
        },
        {"entity": {"client-id": "app"}, "values": {"producer_byte_rate": 10.0}},
    ]
    table = ok("quotas", "describe", "--user", "alice", "--client-id", "app").stdout
    assert "producer_byte_rate  1048576  user=alice" in table
    assert "consumer_byte_rate  5000     user=<default>,client-id=<default>" in table
    other = json.loads(ok("quotas", "describe", "--user", "bob", "--client-id", "app",
                          "--format", "json").stdout)  # fmt: skip
    assert other["producer_byte_rate"] == {"value": 10.0, "entity": {"client-id": "app"}}

    removed = ok("quotas", "remove", "--user", "alice", "--delete-config", "producer_byte_rate")
    assert "Removed producer_byte_rate for user=alice." in removed.stdout
    assert "No quota to remove" in ok("quotas", "remove", "--user", "alice").stdout
    audit = ok("audit", "--format", "json").stdout
    assert "quota:user=alice" in audit and "quotas.alter" in audit


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["set", "--user", "a", "--producer-byte-rate", "-5"], 1, "must be positive"),
        (["set", "--user", "a", "--producer-byte-rate", "fast"], 1, "must be a number"),
        (["set", "--user", "a", "--consumer-byte-rate", "1.5"], 1, "whole number"),
        (["set", "--user", "a"], 2, "give at least one of"),
        (["set", "--producer-byte-rate", "5"], 2, "name an entity"),
        (["set", "--user", "a", "--default-user", "--producer-byte-rate", "5"], 2, "not both"),
        (["remove", "--user", "a", "--delete-config", "speed"], 2, "unknown quota key 'speed'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    streamgov_home: Path, args: list[str], code: int, message: str
) -> None:
    result = run("quotas", *args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    assert json.loads(ok("quotas", "list", "--format", "json").stdout) == []
