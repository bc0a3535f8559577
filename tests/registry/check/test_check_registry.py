"""`streamgov check --against registry:URL` against a running streamgov registry."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient

from engine.embedded import EmbeddedCluster
from streamgov.cli import cli
from streamgov.server import create_app
from tests.brokers import free_port
from tests.registry.check.conftest import SchemaRepo, field, record
from tests.registry.registry_server import serve_in_thread

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]

USER, PASSWORD, TOKEN = "ci-user", "s3cret-pw", "tok-abc123"


class RequireCredentials:
    """An authenticating front for the registry: basic `USER:PASSWORD` or bearer `TOKEN`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            allowed = {f"Basic {basic}".encode(), f"Bearer {TOKEN}".encode()}
            if headers.get(b"authorization") not in allowed:
                body = json.dumps({"error_code": 401, "message": "Unauthorized"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The streamgov application over an embedded cluster."""
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("cluster"), maintenance_interval_s=None)
    application = create_app(cluster)
    yield application
    application.state.services.close()
    cluster.close()


@pytest.fixture(scope="module")
def registry(app: Any) -> Iterator[str]:
    """URL of a running streamgov registry."""
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def guarded(app: Any) -> Iterator[str]:
    """URL of the same registry behind a credentials check."""
    with serve_in_thread(RequireCredentials(app)) as url:
        yield url


@pytest.fixture()
def client(registry: str) -> SchemaRegistryClient:
    """The confluent-kafka registry client, pointed at the running registry."""
    return SchemaRegistryClient({"url": registry})


def _register(client: SchemaRegistryClient, subject: str, schema: dict[str, Any]) -> None:
    client.register_schema(subject, Schema(json.dumps(schema), "AVRO"))


def _json(repo: SchemaRepo, url: str, code: int, **env: str) -> dict[str, Any]:
    result = CliRunner(env=env or None).invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{url}", "--format", "json"]
    )
    assert result.exit_code == code, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {item["subject"]: item["status"] for item in document["subjects"]}


V1 = record("Shipment", field("id", "string"), field("weight", "int"))
V2 = record("Shipment", field("id", "string"))


def test_latest_registered_version_at_the_subjects_level(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    _register(client, "shipments-value", V1)
    _register(client, "shipments-value", V2)
    repo.write(
        "schemas/shipments-value.avsc",
        record("Shipment", field("id", "string"), field("carrier", "string")),
    )
    document = _json(repo, registry, 1)
    (problem,) = document["problems"]
    assert problem["version"] == "version 2"
    assert problem["level"] == "BACKWARD"
    assert "carrier" in problem["message"]
    assert document["against"] == f"registry:{registry}"

    client.set_compatibility(subject_name="shipments-value", level="NONE")
    assert _statuses(_json(repo, registry, 0)) == {"shipments-value": "compatible"}

    # An entry's own level wins over the registry's.
    repo.write(
        "streamgov.yaml",
        "schemas:\n  files:\n    - path: schemas/shipments-value.avsc\n"
        "      subject: shipments-value\n      compatibility: BACKWARD\n",
    )
    _json(repo, registry, 1)


def test_transitive_level_checks_every_registered_version(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    _register(client, "parcels-value", V1)
    _register(client, "parcels-value", V2)
    client.set_compatibility(subject_name="parcels-value", level="BACKWARD_TRANSITIVE")
    # `weight` comes back as a string with a default: fine for v2, not for v1 (int data).
    repo.write(
        "schemas/parcels-value.avsc",
        record("Shipment", field("id", "string"), field("weight", "string", default="")),
    )
    document = _json(repo, registry, 1)
    (outcome,) = document["subjects"]
    assert outcome["level"] == "BACKWARD_TRANSITIVE" and outcome["versions_checked"] == 2
    (problem,) = document["problems"]
    assert problem["version"] == "version 1"


def test_new_subjects_pass_and_deletions_are_not_judged(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    _register(client, "someone-elses-value", V1)
    repo.write("schemas/brand-new-value.avsc", V1)
    document = _json(repo, registry, 0)
    assert _statuses(document) == {"brand-new-value": "new"}
    bare = CliRunner().invoke(cli, ["check", "--root", str(repo.root), "--against", registry])
    assert bare.exit_code == 0, bare.output


def test_references_resolve_to_registered_subjects(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    _register(client, "money-value", record("Money", field("units", "long")))
    order = record("Order", field("id", "string"), field("total", "com.acme.Money"))
    client.register_schema(
        "orders-value",
        Schema(json.dumps(order), "AVRO", [SchemaReference("com.acme.Money", "money-value", 1)]),
    )
    repo.write(
        "streamgov.yaml",
        "schemas:\n  files:\n    - path: schemas/orders.avsc\n      subject: orders-value\n"
        "      references: [{name: com.acme.Money, subject: money-value, version: 1}]\n",
    )
    repo.write("schemas/orders.avsc", order)
    assert _statuses(_json(repo, registry, 0)) == {"orders-value": "unchanged"}
    order["fields"].append(field("note", ["null", "string"], default=None))
    repo.write("schemas/orders.avsc", order)
    assert _statuses(_json(repo, registry, 0)) == {"orders-value": "compatible"}


@pytest.mark.parametrize(
    "env",
    [
        {"STREAMGOV_USER": USER, "STREAMGOV_PASSWORD": PASSWORD},
        {"STREAMGOV_TOKEN": TOKEN},
        # The older names still work (with a deprecation note on stderr).
        {"STREAMGOV_REGISTRY_USER": USER, "STREAMGOV_REGISTRY_PASSWORD": PASSWORD},
        {"STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO": f"{USER}:{PASSWORD}"},
        {"STREAMGOV_REGISTRY_TOKEN": TOKEN},
    ],
)
def test_credentials_from_the_environment(
    repo: SchemaRepo, client: SchemaRegistryClient, guarded: str, env: dict[str, str]
) -> None:
    _register(client, "audits-value", V1)
    repo.write("schemas/audits-value.avsc", V2)
    document = _json(repo, guarded, 0, **env)
    assert _statuses(document) == {"audits-value": "compatible"}
    assert PASSWORD not in json.dumps(document) and TOKEN not in json.dumps(document)


def test_refused_credentials_exit_2_without_leaking_secrets(repo: SchemaRepo, guarded: str) -> None:
    repo.write("schemas/audits-value.avsc", V2)
    result = CliRunner(
        env={"STREAMGOV_REGISTRY_PASSWORD": "wrong-pw", "STREAMGOV_REGISTRY_USER": USER}
    ).invoke(cli, ["check", "--root", str(repo.root), "--against", f"registry:{guarded}"])
    assert result.exit_code == 2
    assert "refused access (HTTP 401)" in result.output
    assert "wrong-pw" not in result.output
    url_with_secret = guarded.replace("http://", f"http://{USER}:hidden-pw@")
    result = CliRunner().invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{url_with_secret}"]
    )
    assert result.exit_code == 2
    assert "hidden-pw" not in result.output


def test_unreachable_registry_exits_2(repo: SchemaRepo, tmp_path: Path) -> None:
    repo.write("schemas/audits-value.avsc", V2)
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{url}", "--timeout", "2"]
    )
    assert result.exit_code == 2
    assert f"cannot reach the registry at {url}" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_owned_subjects_missing_from_the_repository_are_deleted(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    for subject in ("inv-a-value", "inv-b-value", "unrelated-value"):
        _register(client, subject, V1)
    repo.write("schemas/inv-a-value.avsc", V1)
    repo.write("streamgov.yaml", "schemas:\n  owned_subjects: [inv-*]\n")
    document = _json(repo, registry, 1)
    assert _statuses(document) == {"inv-a-value": "unchanged", "inv-b-value": "deleted"}
    (problem,) = document["problems"]
    assert problem["file"] is None and "inv-b-value" in problem["message"]
    repo.write(
        "streamgov.yaml", "schemas:\n  owned_subjects: [inv-*]\n  allow_deleted: [inv-b-value]\n"
    )
    assert _json(repo, registry, 0)["problems"][0]["severity"] == "warning"


@pytest.mark.parametrize(
    "url",
    [
        "http://ci-user:hidden-pw@127.0.0.1:99999",
        "http://ci-user:hidden-pw@[::1",
        "http://ci-user:hidden-pw@[zz]:8081",
        "http://ci-user:hidden-pw@localhost:port",
        "http://ci-user:hidden/pw@localhost",
        "http://ci-user:hidden-pw@127.0.0.1:0",
        f"http://ci-user:hidden-pw@{'a' * 300}.example:8081",
        "ftp://ci-user:hidden-pw@localhost",
    ],
)
def test_a_malformed_registry_url_is_a_usage_error_on_one_line(repo: SchemaRepo, url: str) -> None:
    repo.write("schemas/audits-value.avsc", V2)
    result = CliRunner().invoke(
        cli, ["check", "--root", str(repo.root), "--against", f"registry:{url}", "--timeout", "1"]
    )
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: registry URL ") or line.startswith("Error: cannot reach")
    assert "hidden" not in result.output and "Traceback" not in result.output


#: What a hostile registry says: workflow commands on lines of their own, a terminal escape.
INJECTION = "boom\n::error file=x.avsc,line=1::injected\r\n::add-mask::x\x1b[2J\u2028::set-env::y"


class HostileRegistry:
    """A registry front that answers every request with an error carrying `INJECTION`."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = json.dumps({"error_code": 50001, "message": INJECTION}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _no_injected_lines(output: str) -> None:
    lines = output.splitlines()
    injected = ("::error file=x.avsc", "::add-mask", "::set-env")
    assert not [line for line in lines if line.startswith(injected)]
    assert "\x1b" not in output and "\u2028" not in output and "\r" not in output


def test_a_registrys_error_message_is_one_escaped_line(repo: SchemaRepo) -> None:
    repo.write("schemas/audits-value.avsc", V2)
    with serve_in_thread(HostileRegistry()) as url:
        for output_format in ("human", "github"):
            args = ["--root", str(repo.root), "--against", f"registry:{url}"]
            result = CliRunner().invoke(cli, ["check", *args, "--format", output_format])
            assert result.exit_code == 2, result.output
            (line,) = result.output.strip().splitlines()
            assert "answered HTTP 500" in line and "boom\\n::error" in line
            _no_injected_lines(result.output)


def test_names_from_registered_schemas_cannot_start_lines_of_ci_output(
    repo: SchemaRepo, client: SchemaRegistryClient, registry: str
) -> None:
    hostile = f"a{INJECTION}"
    old = {"type": "object", "properties": {hostile: {"type": "string"}, "id": {"type": "string"}}}
    old["additionalProperties"] = False
    client.register_schema("hostile-value", Schema(json.dumps(old), "JSON"))
    new = {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "additionalProperties": False,
    }
    repo.write("schemas/hostile-value.schema.json", new)
    for output_format in ("human", "github", "junit"):
        args = ["--root", str(repo.root), "--against", f"registry:{registry}"]
        result = CliRunner().invoke(cli, ["check", *args, "--format", output_format])
        assert result.exit_code == 1, result.output
        # Shown, escaped: on one line, or with GitHub's own escape inside an annotation.
        assert "boom\\n::error" in result.output or "boom%0A::error" in result.output
        _no_injected_lines(result.output)
    document = _json(repo, registry, 1)
    assert hostile in document["problems"][0]["message"], "JSON keeps the data, JSON-escaped"
