"""`streamgov catalog ...`, `plan`, `apply` and `import` on an embedded cluster, in the forms
the documentation fixes, through click's runner."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, TopicPartition
from streamgov.cli import cli
from streamgov.config import embedded_cluster_path


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def test_the_documented_catalog_forms(streamgov_home: Path) -> None:
    ok("topics", "create", "orders", "--partitions", "2")
    ok("topics", "create", "orders-v2", "--partitions", "2")
    with EmbeddedCluster(embedded_cluster_path()) as cluster:
        cluster.commit_offsets("billing", {TopicPartition("orders", 0): OffsetAndMetadata(0)})

    ok("catalog", "tag", "orders", "--owner", "checkout", "--tag", "pii", "--tag", "tier=gold")
    described = json.loads(ok("catalog", "describe", "orders", "--format", "json").stdout)
    assert described["owner"] == "checkout"
    assert described["tags"] == ["pii", "tier=gold"]
    assert described["consumers"] == ["billing"]
    assert described["deprecated"] is None

    ok(
        "catalog",
        "deprecate",
        "orders",
        "--replacement",
        "orders-v2",
        "--sunset",
        "2030-01-01",
        "--reason",
        "new money type",
    )
    (entry,) = json.loads(ok("catalog", "deprecations", "--format", "json").stdout)
    assert (entry["topic"], entry["consumers"], entry["safe_to_delete"]) == (
        "orders",
        ["billing"],
        False,
    )
    refused = run("catalog", "retire", "orders")
    assert refused.exit_code == 1 and "still has consumers (billing)" in refused.output
    internal = run("catalog", "retire", "_catalog_events", "--force")
    assert internal.exit_code == 1 and internal.output.count("\n") == 1
    assert "topic '_catalog_events' is internal" in internal.output

    with EmbeddedCluster(embedded_cluster_path()) as cluster:
        cluster.delete_group("billing")
    (entry,) = json.loads(ok("catalog", "deprecations", "--format", "json").stdout)
    assert (entry["consumers"], entry["safe_to_delete"]) == ([], True)
    ok("catalog", "deprecations", "--format", "json")  # evaluating again tells nobody again
    events = json.loads(ok("catalog", "events", "--format", "json").stdout)
    assert [(e["type"], e["topic"], e["owner"]) for e in events] == [
        ("no_consumers_left", "orders", "checkout")
    ]
    (hit, *_) = json.loads(ok("catalog", "search", "orders", "--format", "json").stdout)
    assert hit["topic"] == "orders"
    ok("catalog", "retire", "orders")
    assert "orders" not in ok("topics", "list").stdout.split()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("catalog", "describe", "ghost"), "stream 'ghost' is not in the catalog"),
        (("catalog", "tag", "t", "--tag", "=x"), "tag '=x'"),
        (("catalog", "deprecate", "ghost"), "stream 'ghost' is not in the catalog"),
        (("catalog", "search", "!!"), "no word to look for"),
        (("catalog", "settings", "--webhook", "file:///etc/passwd"), "must be http:// or https://"),
    ],
)
def test_bad_input_is_one_line(streamgov_home: Path, args: tuple[str, ...], words: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and words in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"streamgov.yaml": "streams:\n  orders:\n    ownr: x\n"},
            "streamgov.yaml:3: unknown key 'ownr' in streams.orders (did you mean 'owner'?)",
        ),
        (
            {"streamgov.yaml": "streams:\n  orders:\n    tags: [pii, '=bad']\n"},
            "streamgov.yaml:3: tag '=bad'",
        ),
        (
            {"streamgov.yaml": "streams:\n  orders:\n    partitions: 0\n"},
            "streamgov.yaml:3: streams.orders.partitions must be a whole number from 1 to",
        ),
        (
            {"streamgov.yaml": "streams:\n  orders:\n    config: {retention.ms: soon}\n"},
            "streamgov.yaml:3: ",
        ),
        ({"streamgov.yaml": "streams: [\n"}, "streamgov.yaml:2: not valid YAML"),
        (
            {
                "streamgov.yaml": "include: [teams/*.yaml]\n",
                "teams/a.yaml": "services:\n  svc:\n    inputs: [ok, 'bad topic']\n",
            },
            "teams/a.yaml:3: services.svc.inputs 'bad topic' is not a valid topic name",
        ),
        (
            {
                "streamgov.yaml": "include: [teams/*.yaml]\nstreams:\n  o: {}\n",
                "teams/a.yaml": "streams:\n  o: {}\n",
            },
            "teams/a.yaml:2: stream 'o' is declared twice (also at streamgov.yaml:3)",
        ),
        (
            {"streamgov.yaml": "include: [nothing/*.yaml]\n"},
            "streamgov.yaml:1: include 'nothing/*.yaml' matches no file",
        ),
        (
            {"streamgov.yaml": "stream: {}\n"},
            "unknown key 'stream' in the file (did you mean 'streams'?)",
        ),
        (
            {"streamgov.yaml": "streams:\n  o:\n    value_schema: missing.avsc\n"},
            "streamgov.yaml:3: streams.o.value_schema: schema file missing.avsc does not exist",
        ),
        (
            {"streamgov.yaml": "streams:\n  _schemas:\n    partitions: 3\n"},
            "streamgov.yaml:2: topic '_schemas' is internal: it holds the schema registry's",
        ),
        (
            {"streamgov.yaml": "streams:\n  _catalog-snapshots:\n    delete: true\n"},
            "governance files leave internal topics alone",
        ),
    ],
)
def test_bad_governance_files_name_file_and_line(
    streamgov_home: Path, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    root = tmp_path / "repo"
    for name, text in files.items():
        write(root, name, text)
    result = run("plan", "-f", str(root / "streamgov.yaml"))
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_plan_exit_codes_and_apply(streamgov_home: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "streamgov.yaml",
        """
        streams:
          payments:
            owner: billing
            tags: [financial]
            partitions: 3
        services:
          billing: {team: finance, outputs: [payments]}
        """,
    )
    planned = run("plan", "-f", str(path))
    assert planned.exit_code == 2, planned.output
    # the topic, its catalog entry, the service, and the ACLs that follow from ownership
    assert planned.output.splitlines()[:5] == [
        "+ topic payments: partitions: (none) -> 3",
        "+ stream payments: owner: (none) -> billing; tags: [] -> [financial]",
        "+ service billing: team: (none) -> finance; outputs: (none) -> [payments]",
        "+ acl ALLOW User:billing ALL TOPIC:PREFIXED:billing-",
        "+ acl ALLOW User:billing WRITE TOPIC:LITERAL:payments",
    ]
    assert "Plan: 5 to add, 0 to change, 0 to delete." in planned.output
    assert json.loads(run("plan", "-f", str(path), "--format", "json").stdout)["summary"] == {
        "create": 5,
        "update": 0,
        "delete": 0,
    }
    refused = run("apply", "-f", str(path))
    assert refused.exit_code == 1 and "--auto-approve" in refused.output
    assert run("plan", "-f", str(path)).exit_code == 2, "a refused apply changed something"
    ok("apply", "-f", str(path), "--auto-approve")
    again = run("plan", "-f", str(path))
    assert again.exit_code == 0 and "No changes" in again.output
    assert run("plan", "--no-such-flag").exit_code == 1  # usage errors are not "changes"


def test_import_writes_files_that_plan_as_nothing_to_do(
    streamgov_home: Path, tmp_path: Path
) -> None:
    ok("topics", "create", "orders", "--partitions", "4", "--config", "retention.ms=60000")
    ok("catalog", "tag", "orders", "--owner", "checkout", "--tag", "pii")
    out = tmp_path / "imported"
    ok("import", "-o", str(out))
    text = (out / "streamgov.yaml").read_text()
    assert "retention.ms: '60000'" in text and "owner: checkout" in text
    assert run("import", "-o", str(out)).exit_code == 1  # never overwritten without --force
    assert run("plan", "-f", str(out / "streamgov.yaml")).exit_code == 0
