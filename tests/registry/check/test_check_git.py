"""`streamgov check --against git:REF` on real repositories with histories."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.judge import same_schema as _same
from tests.registry.check.conftest import SchemaRepo, field, record

ORDER_V1 = record("Order", field("id", "string"), field("amount", "int"))


def _json(repo: SchemaRepo, *args: str, code: int | None = None) -> dict[str, Any]:
    result = repo.check("--format", "json", *args)
    if code is not None:
        assert result.exit_code == code, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {item["subject"]: item["status"] for item in document["subjects"]}


def _config(repo: SchemaRepo, body: str) -> None:
    repo.write("streamgov.yaml", "schemas:\n" + body)


@pytest.fixture()
def orders(repo: SchemaRepo) -> SchemaRepo:
    """A repository whose main branch holds orders-value at ORDER_V1."""
    repo.write("schemas/orders-value.avsc", ORDER_V1)
    repo.commit("orders v1")
    return repo


def test_added_field_without_default_fails_with_line(orders: SchemaRepo) -> None:
    orders.write(
        "schemas/orders-value.avsc",
        record("Order", field("id", "string"), field("amount", "int"), field("note", "string")),
    )
    document = _json(orders, "--against", "git:main", code=1)
    assert _statuses(document) == {"orders-value": "incompatible"}
    (problem,) = document["problems"]
    assert problem["file"] == "schemas/orders-value.avsc"
    assert problem["pointer"] == "/fields/2"
    assert problem["direction"] == "backward"
    main = orders.git("rev-parse", "main")
    assert problem["version"] == f"commit {main[:10]} (main)"
    assert "note" in problem["message"] and "default" in problem["fix"]
    lines = (orders.root / "schemas/orders-value.avsc").read_text().splitlines()
    assert '"note"' in lines[problem["line"] - 1]


def test_added_field_with_default_passes(orders: SchemaRepo) -> None:
    orders.write(
        "schemas/orders-value.avsc",
        record(
            "Order",
            field("id", "string"),
            field("amount", "int"),
            field("note", ["null", "string"], default=None),
        ),
    )
    document = _json(orders, "--against", "git:main", code=0)
    assert _statuses(document) == {"orders-value": "compatible"}


def test_removed_field_passes_backward_and_fails_forward(orders: SchemaRepo) -> None:
    orders.write("schemas/orders-value.avsc", record("Order", field("id", "string")))
    assert _statuses(_json(orders, "--against", "git:main", code=0)) == {
        "orders-value": "compatible"
    }
    _config(orders, "  compatibility: FORWARD\n")
    document = _json(orders, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["direction"] == "forward"
    assert problem["level"] == "FORWARD"
    assert "amount" in problem["message"]


def test_type_promotion_is_backward_but_not_full(orders: SchemaRepo) -> None:
    orders.write(
        "schemas/orders-value.avsc", record("Order", field("id", "string"), field("amount", "long"))
    )
    _json(orders, "--against", "git:main", code=0)
    _config(orders, "  compatibility: FULL\n")
    document = _json(orders, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["direction"] == "forward"
    assert problem["pointer"] == "/fields/1/type"
    lines = (orders.root / "schemas/orders-value.avsc").read_text().splitlines()
    assert '"long"' in lines[problem["line"] - 1]


def test_enum_symbol_removed(repo: SchemaRepo) -> None:
    status = {"type": "enum", "name": "CheckStatus", "symbols": ["NEW", "PAID", "SHIPPED"]}
    repo.write("schemas/status-value.avsc", record("Order", field("status", status)))
    repo.commit()
    status["symbols"] = ["NEW", "PAID"]
    repo.write("schemas/status-value.avsc", record("Order", field("status", status)))
    document = _json(repo, "--against", "git:HEAD", code=1)
    (problem,) = document["problems"]
    assert "SHIPPED" in problem["message"]


def test_json_schema_closed_content_model(repo: SchemaRepo) -> None:
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"id": {"type": "string"}},
    }
    repo.write("schemas/invoices.schema.json", schema)
    repo.commit()
    schema["additionalProperties"] = False
    repo.write("schemas/invoices.schema.json", schema)
    document = _json(repo, "--against", "git:HEAD", code=1)
    assert _statuses(document) == {"invoices": "incompatible"}
    (problem,) = document["problems"]
    assert problem["pointer"] == "/additionalProperties"
    lines = (repo.root / "schemas/invoices.schema.json").read_text().splitlines()
    assert "additionalProperties" in lines[problem["line"] - 1]


def test_renamed_file_keeps_its_subject_history(repo: SchemaRepo) -> None:
    _config(repo, "  files:\n    - {path: schemas/orders.avsc, subject: orders-value}\n")
    repo.write(
        "schemas/orders.avsc", record("Order", field("id", "string"), field("legacy", "int"))
    )
    first = repo.commit("v1")
    repo.write("schemas/orders.avsc", record("Order", field("id", "string")))
    repo.commit("v2: drop legacy")
    repo.move("schemas/orders.avsc", "schemas/v2/orders.avsc")
    _config(repo, "  files:\n    - {path: schemas/v2/orders.avsc, subject: orders-value}\n")
    repo.commit("move")
    # `legacy` comes back as a string with a default: fine for the latest version (which has
    # no `legacy`), a break for version 1 (which wrote it as an int).
    repo.write(
        "schemas/v2/orders.avsc",
        record("Order", field("id", "string"), field("legacy", "string", default="")),
    )
    assert _statuses(_json(repo, "--against", "git:main", code=0)) == {"orders-value": "compatible"}
    _config(
        repo,
        "  files:\n    - {path: schemas/v2/orders.avsc, subject: orders-value,"
        " compatibility: BACKWARD_TRANSITIVE}\n",
    )
    document = _json(repo, "--against", "git:main", code=1)
    (outcome,) = document["subjects"]
    assert outcome["versions_checked"] == 2
    (problem,) = document["problems"]
    assert problem["version"] == f"commit {first[:10]} as schemas/orders.avsc"
    assert "legacy" in problem["message"]


def test_deleted_subject_fails_unless_allowed(repo: SchemaRepo) -> None:
    _config(repo, "  files: [{glob: 'schemas/*.avsc', strategy: TopicNameStrategy}]\n")
    repo.write("schemas/orders.avsc", ORDER_V1)
    repo.write("schemas/refunds.avsc", record("Refund", field("id", "string")))
    repo.commit()
    (repo.root / "schemas/refunds.avsc").unlink()
    document = _json(repo, "--against", "git:main", code=1)
    assert _statuses(document) == {"orders-value": "unchanged", "refunds-value": "deleted"}
    (problem,) = document["problems"]
    assert problem["kind"] == "deleted" and problem["severity"] == "error"
    assert problem["file"] == "schemas/refunds.avsc"
    _config(
        repo,
        "  allow_deleted: [refunds-*]\n"
        "  files: [{glob: 'schemas/*.avsc', strategy: TopicNameStrategy}]\n",
    )
    document = _json(repo, "--against", "git:main", code=0)
    assert _statuses(document)["refunds-value"] == "deleted"
    (problem,) = document["problems"]
    assert problem["severity"] == "warning"


def test_renamed_file_with_a_new_subject_names_where_the_schema_went(repo: SchemaRepo) -> None:
    _config(repo, "  files: [{glob: 'schemas/*.avsc', strategy: TopicNameStrategy}]\n")
    repo.write("schemas/refunds.avsc", record("Refund", field("id", "string")))
    repo.commit()
    repo.move("schemas/refunds.avsc", "schemas/returns.avsc")
    document = _json(repo, "--against", "git:main", code=1)
    assert _statuses(document) == {"refunds-value": "deleted", "returns-value": "new"}
    (problem,) = document["problems"]
    assert "now in schemas/returns.avsc as subject 'returns-value'" in problem["message"]


def _money_and_orders_config(repo: SchemaRepo) -> None:
    """Map money.avsc and orders.avsc, which references the Money type."""
    _config(
        repo,
        "  files:\n"
        "    - {path: schemas/money.avsc, subject: money-value}\n"
        "    - path: schemas/orders.avsc\n"
        "      subject: orders-value\n"
        "      references: [{name: com.acme.Money, subject: money-value}]\n",
    )


def test_reference_change_breaks_the_referencing_subject(repo: SchemaRepo) -> None:
    _money_and_orders_config(repo)
    money = record("Money", field("units", "long"))
    repo.write("schemas/money.avsc", money)
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money")))
    repo.commit()
    assert _statuses(_json(repo, "--against", "git:HEAD", code=0)) == {
        "money-value": "unchanged",
        "orders-value": "unchanged",
    }
    repo.write(
        "schemas/money.avsc", record("Money", field("units", "long"), field("currency", "string"))
    )
    document = _json(repo, "--against", "git:HEAD", code=1)
    assert _statuses(document) == {"money-value": "incompatible", "orders-value": "incompatible"}
    # The finding about the referencing subject points into the file that defines the type.
    money_lines = (repo.root / "schemas/money.avsc").read_text().splitlines()
    currency_line = next(i for i, line in enumerate(money_lines, 1) if '"currency"' in line)
    by_subject = {p["subject"]: p for p in document["problems"]}
    assert by_subject["orders-value"]["file"] == "schemas/money.avsc"
    assert by_subject["orders-value"]["line"] == currency_line
    assert by_subject["orders-value"]["pointer"] == "/fields/1"
    assert "com.acme.Money" in by_subject["orders-value"]["message"]


def test_invalid_referenced_schema_points_at_its_file(repo: SchemaRepo) -> None:
    _money_and_orders_config(repo)
    repo.write(
        "schemas/money.avsc", record("Money", field("units", "long"), field("cur", "Currency"))
    )
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money")))
    document = _json(repo, code=1)
    money_lines = (repo.root / "schemas/money.avsc").read_text().splitlines()
    bad_line = next(i for i, line in enumerate(money_lines, 1) if '"Currency"' in line)
    by_subject = {p["subject"]: p for p in document["problems"]}
    assert by_subject["orders-value"]["file"] == "schemas/money.avsc"
    assert by_subject["orders-value"]["line"] == bad_line
    assert "in referenced schema 'com.acme.Money'" in by_subject["orders-value"]["message"]


def test_unresolvable_reference_is_invalid(repo: SchemaRepo) -> None:
    _config(
        repo,
        "  files:\n    - path: schemas/orders.avsc\n      subject: orders-value\n"
        "      references: [{name: com.acme.Money, subject: money-value}]\n",
    )
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money")))
    document = _json(repo, code=1)
    (problem,) = document["problems"]
    assert problem["kind"] == "invalid" and "money-value" in problem["message"]


def test_new_subject_passes_and_unchanged_are_skipped(orders: SchemaRepo) -> None:
    orders.write("schemas/refunds-value.avsc", record("Refund", field("id", "string")))
    document = _json(orders, "--against", "git:main", code=0)
    assert _statuses(document) == {"orders-value": "unchanged", "refunds-value": "new"}


def test_transitive_level_reads_the_file_history(orders: SchemaRepo) -> None:
    orders.write("schemas/orders-value.avsc", record("Order", field("id", "string")))
    orders.commit("drop amount")
    # Bringing `amount` back as a string is fine against the latest version only.
    orders.write(
        "schemas/orders-value.avsc",
        record("Order", field("id", "string"), field("amount", "string", default="0")),
    )
    _json(orders, "--against", "git:main", code=0)
    _config(
        orders,
        "  compatibility: BACKWARD_TRANSITIVE\n"
        "  files:\n    - {path: schemas/orders-value.avsc, subject: orders-value}\n",
    )
    document = _json(orders, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["version"].startswith("commit ")
    assert document["subjects"][0]["versions_checked"] == 2


def test_invalid_schema_points_at_the_line(orders: SchemaRepo) -> None:
    orders.write("schemas/orders-value.avsc", '{\n  "type": "record",\n  "name": \n}\n')
    document = _json(orders, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["kind"] == "invalid" and problem["line"] == 4


def test_working_tree_is_not_touched(orders: SchemaRepo) -> None:
    path = orders.root / "schemas/orders-value.avsc"
    path.write_text("{ broken")
    before = orders.git("status", "--porcelain")
    orders.check("--against", "git:main")
    assert path.read_text() == "{ broken"
    assert orders.git("status", "--porcelain") == before


def test_directory_baseline(orders: SchemaRepo, tmp_path: Any) -> None:
    old = tmp_path / "released"
    (old / "schemas").mkdir(parents=True)
    (old / "schemas/orders-value.avsc").write_text(json.dumps(ORDER_V1))
    orders.write("schemas/orders-value.avsc", record("Order", field("id", "long")))
    document = _json(orders, "--against", str(old), code=1)
    assert document["against"] == str(old)
    assert {p["subject"] for p in document["problems"]} == {"orders-value"}


def test_validation_only_without_baseline(orders: SchemaRepo) -> None:
    document = _json(orders, code=0)
    assert _statuses(document) == {"orders-value": "valid"}
    assert any("no baseline" in note for note in document["notes"])
    assert any("by convention" in note for note in document["notes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--against", "git:no-such-branch"), "unknown git ref 'no-such-branch'"),
        (("--against", "registry:ftp://example"), "must be http(s)"),
        (("--against", "dir:/no/such/dir"), "does not exist"),
        (("--against", "what"), "unknown baseline 'what'"),
        (("--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_usage_and_baseline_errors_exit_2(
    orders: SchemaRepo, args: tuple[str, ...], message: str
) -> None:
    result = orders.check(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_configuration_error_exits_2_with_file_and_line(orders: SchemaRepo) -> None:
    _config(orders, "  files:\n    - path: a.avsc\n      subjekt: x\n")
    result = orders.check("--against", "git:main")
    assert result.exit_code == 2
    assert "streamgov.yaml:4: unknown key 'subjekt'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_root_below_the_repository_top(repo: SchemaRepo) -> None:
    repo.write("services/billing/schemas/orders-value.avsc", ORDER_V1)
    repo.write("services/billing/.gitignore", "generated/\n")
    repo.write("services/billing/generated/copy-value.avsc", "{ not even json")
    repo.write("services/other/schemas/x-value.avsc", ORDER_V1)
    repo.commit()
    repo.write(
        "services/billing/schemas/orders-value.avsc",
        record("Order", field("id", "string"), field("amount", "int"), field("n", "int")),
    )
    root = repo.root / "services/billing"
    # The last --root wins.
    result = repo.check("--root", str(root), "--against", "git:main", "--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert _statuses(document) == {"orders-value": "incompatible"}
    assert document["problems"][0]["file"] == "schemas/orders-value.avsc"
    github = repo.check("--root", str(root), "--against", "git:main", "--format", "github")
    assert "::error file=services/billing/schemas/orders-value.avsc,line=" in github.output


def test_oversized_schema_is_invalid_not_read(orders: SchemaRepo) -> None:
    big = record("Order", field("id", "string", doc="x" * 1_100_000))
    orders.write("schemas/orders-value.avsc", big)
    document = _json(orders, "--against", "git:main", code=1)
    (problem,) = document["problems"]
    assert problem["kind"] == "invalid" and "over the limit" in problem["message"]


@settings(deadline=None, max_examples=40)
@given(st.sampled_from([None, 1, 4]), st.booleans())
def test_reformatting_is_unchanged(indent: int | None, sort_keys: bool) -> None:
    text = json.dumps(ORDER_V1, indent=indent, sort_keys=sort_keys)
    assert _same((json.dumps(ORDER_V1),), (text,))
    assert not _same((json.dumps(ORDER_V1),), (text.replace('"int"', '"long"'),))


def test_history_includes_the_merged_version(repo: SchemaRepo) -> None:
    def schema(doc: str, namespace: str) -> dict[str, Any]:
        return {
            "type": "record",
            "name": "Order",
            "doc": doc,
            "namespace": namespace,
            "fields": [
                {"name": "id", "type": "string"},
                {"name": "amount", "type": "int"},
            ],
        }

    repo.write("schemas/orders-value.avsc", schema("v1", "com.acme"))
    repo.commit("v1")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("schemas/orders-value.avsc", schema("v2", "com.acme"))
    repo.commit("doc")
    repo.git("checkout", "-q", "main")
    text = json.dumps(schema("v1", "com.acme"), indent=2).replace('"int"', '"long"')
    repo.write("schemas/orders-value.avsc", text + "\n")
    repo.commit("widen amount")
    repo.git("merge", "-q", "--no-edit", "feature")
    merged = (repo.root / "schemas/orders-value.avsc").read_text()
    assert '"v2"' in merged and '"long"' in merged
    _config(repo, "  compatibility: FULL_TRANSITIVE\n")
    repo.write("schemas/orders-value.avsc", merged.replace('"v2"', '"v3"'))
    document = _json(repo, "--against", "git:main", code=1)
    (outcome,) = document["subjects"]
    assert outcome["versions_checked"] == 4
    # Readers of the two `int` versions cannot read `long` data; the merged one can: one
    # problem, listing both versions.
    (problem,) = document["problems"]
    assert problem["direction"] == "forward"
    assert len(problem["versions"]) == 2 and problem["version"] == problem["versions"][0]
    assert all(label.startswith("commit ") for label in problem["versions"])


def test_earlier_versions_use_their_references_as_of_their_commit(repo: SchemaRepo) -> None:
    _config(
        repo,
        "  files:\n"
        "    - {path: schemas/money.avsc, subject: money-value}\n"
        "    - path: schemas/orders.avsc\n"
        "      subject: orders-value\n"
        "      compatibility: FULL_TRANSITIVE\n"
        "      references: [{name: com.acme.Money, subject: money-value}]\n",
    )
    repo.write("schemas/money.avsc", record("Money", field("units", "int")))
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money")))
    first = repo.commit("v1: int units")
    repo.write("schemas/money.avsc", record("Money", field("units", "long")))
    optional = field("note", ["null", "string"], default=None)
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money"), optional))
    repo.commit("v2: long units")
    repo.write("schemas/orders.avsc", record("Order", field("total", "com.acme.Money")))
    document = _json(repo, "--against", "git:main", code=1)
    # Readers of the first orders version saw Money with `int` units: they cannot read `long`.
    (problem,) = document["problems"]
    assert problem["subject"] == "orders-value"
    assert problem["version"] == f"commit {first[:10]}"
    assert problem["direction"] == "forward"


def test_merge_base_baseline_ignores_what_changed_on_the_target_since(
    orders: SchemaRepo,
) -> None:
    orders.git("checkout", "-q", "-b", "feature")
    orders.write("schemas/orders-value.avsc", record("Order", field("id", "string")))
    orders.commit("feature: drop amount")
    orders.git("checkout", "-q", "main")
    orders.write("schemas/refunds-value.avsc", record("Refund", field("id", "string")))
    orders.commit("main: new subject")
    orders.git("checkout", "-q", "feature")
    # Against main's tip the branch seems to delete refunds-value; against the fork point not.
    assert _statuses(_json(orders, "--against", "git:main", code=1))["refunds-value"] == "deleted"
    document = _json(orders, "--against", "git:main...", code=0)
    assert _statuses(document) == {"orders-value": "compatible"}
    assert document["against"] == "git:main..."


def test_transitive_labels_are_flat_naming_the_commit_and_the_ref(repo: SchemaRepo) -> None:
    _config(repo, "  compatibility: BACKWARD_TRANSITIVE\n")
    repo.write("schemas/orders-value.avsc", ORDER_V1)
    changed = repo.commit("orders v1")
    repo.write("README.md", "unrelated\n")
    head = repo.commit("docs")
    repo.write(
        "schemas/orders-value.avsc",
        record("Order", field("id", "string"), field("amount", "int"), field("note", "string")),
    )
    (problem,) = _json(repo, "--against", "git:main", code=1)["problems"]
    assert problem["version"] == f"commit {changed[:10]} (unchanged at main)"
    assert head[:10] not in problem["version"]
    (problem,) = _json(repo, "--against", f"git:{changed}", code=1)["problems"]
    assert problem["version"] == f"commit {changed[:10]}"
