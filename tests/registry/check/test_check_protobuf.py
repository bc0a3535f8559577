"""`streamgov check` on `.proto` files: imports between files of the tree become references."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient

from streamgov.cli import cli
from tests.registry.check.conftest import SchemaRepo
from tests.registry.registry_server import registry_in_thread

MONEY = 'syntax = "proto3";\npackage common;\nmessage Money {\n  int64 units = 1;\n}\n'
MONEY_TEXT = 'syntax = "proto3";\npackage common;\nmessage Money {\n  string units = 1;\n}\n'
ORDER = """syntax = "proto3";
package shop;
import "common/money.proto";
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  common.Money total = 2;
  google.protobuf.Timestamp placed = 3;
}
"""


def _json(repo: SchemaRepo, *args: str, code: int) -> dict[str, Any]:
    result = repo.check("--format", "json", *args)
    assert result.exit_code == code, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {item["subject"]: item["status"] for item in document["subjects"]}


def _tree(repo: SchemaRepo, money: str = MONEY, order: str = ORDER) -> None:
    repo.write("protos/common/money.proto", money)
    repo.write("protos/shop/orders.proto", order)


def test_proto_files_with_imports_are_found_and_pass(repo: SchemaRepo) -> None:
    _tree(repo)
    repo.commit("v1")
    repo.write("protos/shop/orders.proto", ORDER.replace("}\n", "  string note = 4;\n}\n"))
    document = _json(repo, "--against", "git:main", code=0)
    assert _statuses(document) == {"money": "unchanged", "orders": "compatible"}


def test_a_change_in_an_imported_file_is_found_through_the_import(repo: SchemaRepo) -> None:
    _tree(repo)
    repo.commit("v1")
    repo.write("protos/common/money.proto", MONEY_TEXT)
    document = _json(repo, "--against", "git:main", code=1)
    assert _statuses(document)["money"] == "incompatible"
    rules = {(p["subject"], p["rule"]) for p in document["problems"]}
    assert ("money", "FIELD_SCALAR_KIND_CHANGED") in rules
    assert ("orders", "FIELD_NAMED_TYPE_CHANGED") in rules


def test_a_removed_message_fails_with_its_path(repo: SchemaRepo) -> None:
    repo.write("protos/shop/orders.proto", ORDER + "message Refund { string id = 1; }\n")
    repo.write("protos/common/money.proto", MONEY)
    repo.commit("v1")
    repo.write("protos/shop/orders.proto", ORDER)
    document = _json(repo, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["file"] == "protos/shop/orders.proto"
    assert problem["rule"] == "MESSAGE_REMOVED"
    assert "Refund" in problem["message"]


def test_a_syntax_error_names_line_and_column(repo: SchemaRepo) -> None:
    repo.write("protos/common/money.proto", MONEY)
    repo.commit("v1")
    repo.write("protos/common/money.proto", MONEY.replace("int64 units = 1;", "int64 units = 1"))
    document = _json(repo, "--against", "git:main", code=1)
    assert _statuses(document) == {"money": "invalid"}
    assert "line 5, column 1" in json.dumps(document)


def test_an_import_the_tree_lacks_is_invalid(repo: SchemaRepo) -> None:
    repo.write("protos/shop/orders.proto", ORDER)
    repo.commit("v1")
    document = _json(repo, "--against", "git:main", code=1)
    assert _statuses(document) == {"orders": "invalid"}
    assert "common/money.proto" in json.dumps(document)


def test_a_changed_field_points_at_its_line(repo: SchemaRepo) -> None:
    _tree(repo)
    repo.commit("v1")
    repo.write("protos/shop/orders.proto", ORDER.replace("string id = 1;", "int32 id = 1;"))
    document = _json(repo, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert (problem["rule"], problem["pointer"]) == ("FIELD_SCALAR_KIND_CHANGED", "#/Order/1")
    assert problem["line"] == 6
    assert "same wire encoding" in problem["fix"]


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_in_thread(Path(tmp_path_factory.mktemp("pbcheck")), "pbcheck") as url:
        yield url


def test_against_a_registry_the_import_is_the_registered_reference(
    repo: SchemaRepo, registry_url: str
) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    client.register_schema("money", Schema(MONEY, "PROTOBUF"))
    refs = [SchemaReference("common/money.proto", "money", 1)]
    client.register_schema("orders", Schema(ORDER, "PROTOBUF", refs))
    client.close()
    _tree(repo)
    result = CliRunner().invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{registry_url}",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _statuses(json.loads(result.stdout)) == {"money": "unchanged", "orders": "unchanged"}
    repo.write("protos/common/money.proto", MONEY_TEXT)
    result = CliRunner().invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{registry_url}",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    rules = {(p["subject"], p["rule"]) for p in json.loads(result.stdout)["problems"]}
    assert rules == {
        ("money", "FIELD_SCALAR_KIND_CHANGED"),
        ("orders", "FIELD_SCALAR_KIND_CHANGED"),
        ("orders", "FIELD_NAMED_TYPE_CHANGED"),
    }
