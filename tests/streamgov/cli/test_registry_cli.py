"""`streamgov registry` against a real server: config in a sentence with its source, types
inferred from file names, and the one environment scheme for URL and credentials."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from streamgov.access import ServerAccess
from streamgov.cli import cli
from streamgov.config import ConfigError
from tests.registry.registry_server import registry_in_thread


@pytest.fixture()
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("STREAMGOV_URL", "STREAMGOV_REGISTRY_URL", "STREAMGOV_TOKEN", "STREAMGOV_USER"):
        monkeypatch.delenv(name, raising=False)
    with registry_in_thread(tmp_path / "cluster", "r") as address:
        yield address


def registry(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["registry", *args], env=env)


def test_config_says_whose_setting_it_is(url: str) -> None:
    assert registry("--url", url, "config", "orders-value").output == (
        "Subject orders-value: compatibility BACKWARD (inherited from the global level); "
        "normalization off (the registry's default).\n"
    )
    registry("--url", url, "config", "orders-value", "--set", "full_transitive")
    assert "compatibility FULL_TRANSITIVE (its own setting)" in (
        registry("--url", url, "config", "orders-value").output
    )
    shown = json.loads(registry("--url", url, "config", "orders-value", "--format", "json").output)
    assert shown == {
        "subject": "orders-value",
        "compatibilityLevel": "FULL_TRANSITIVE",
        "compatibilityLevelSource": "subject",
        "normalize": None,
        "normalizeSource": "default",
    }
    registry("--url", url, "config", "--set", "none")
    dropped = registry("--url", url, "config", "orders-value", "--delete").output.splitlines()
    assert dropped == [
        "Dropped orders-value's own settings.",
        "Subject orders-value: compatibility NONE (inherited from the global level); "
        "normalization off (the registry's default).",
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("order.json", json.dumps({"type": "object"}), "JSON"),
        ("order.schema.json", json.dumps({"type": "object"}), "JSON"),
        ("order.avsc", json.dumps({"type": "record", "name": "O", "fields": []}), "AVRO"),
        ("order.proto", 'syntax = "proto3";\nmessage O { int32 a = 1; }\n', "PROTOBUF"),
        ("order.txt", json.dumps({"type": "record", "name": "O", "fields": []}), "AVRO"),
    ],
)
def test_register_infers_the_type_from_the_file_name(
    url: str, tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert registry("--url", url, "register", "s", str(path)).exit_code == 0
    got = json.loads(registry("--url", url, "get", "s").output)
    assert got.get("schemaType", "AVRO") == expected
    # --type still wins over the name
    plain = tmp_path / "other.json"
    plain.write_text(json.dumps({"type": "record", "name": "P", "fields": []}))
    assert registry("--url", url, "register", "p", str(plain), "--type", "avro").exit_code == 0


def test_the_url_comes_from_the_one_scheme_and_old_names_warn(url: str) -> None:
    assert registry("subjects", env={"STREAMGOV_URL": url}).exit_code == 0
    old = registry("subjects", env={"STREAMGOV_REGISTRY_URL": url})
    assert old.exit_code == 0
    assert "Note: STREAMGOV_REGISTRY_URL is deprecated: set STREAMGOV_URL instead" in old.output
    # The option beats the environment.
    assert (
        registry("--url", url, "subjects", env={"STREAMGOV_URL": "http://127.0.0.1:9"}).exit_code
        == 0
    )


def test_credentials_follow_one_scheme(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tok-from-file\n")
    assert ServerAccess.from_env(env={"STREAMGOV_TOKEN_FILE": str(token_file)}).token == (
        "tok-from-file"
    )
    basic = ServerAccess.from_env(env={"STREAMGOV_USER": "u", "STREAMGOV_PASSWORD": "p"})
    assert (basic.user, basic.password, basic.notes) == ("u", "p", ())
    legacy = ServerAccess.from_env(
        env={"STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO": "a:b:c", "STREAMGOV_REGISTRY_TOKEN": "t"}
    )
    assert (legacy.user, legacy.password, legacy.token) == ("a", "b:c", "t")
    assert len(legacy.notes) == 2
    new_wins = ServerAccess.from_env(
        env={"STREAMGOV_TOKEN": "new", "STREAMGOV_REGISTRY_TOKEN": "old"}
    )
    assert (new_wins.token, new_wins.notes) == ("new", ())
    assert "new" not in repr(new_wins) and "new" not in repr(new_wins.auth())
    with pytest.raises(ConfigError, match="STREAMGOV_PASSWORD_FILE"):
        ServerAccess.from_env(env={"STREAMGOV_PASSWORD_FILE": str(tmp_path / "missing")})


def test_credentials_reach_the_server_from_the_environment() -> None:
    """A real HTTP server records the Authorization header `registry subjects` sends."""
    seen: list[str | None] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        env = {"STREAMGOV_URL": address, "STREAMGOV_USER": "ann", "STREAMGOV_PASSWORD": "pw"}
        assert registry("subjects", env=env).exit_code == 0
        assert (
            registry("subjects", env={"STREAMGOV_URL": address, "STREAMGOV_TOKEN": "t0k"}).exit_code
            == 0
        )
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["Basic YW5uOnB3", "Bearer t0k"]


def test_check_against_registry_alone_uses_the_server_url(url: str, tmp_path: Path) -> None:
    schemas = tmp_path / "repo" / "schemas"
    schemas.mkdir(parents=True)
    (schemas / "orders.avsc").write_text(
        json.dumps({"type": "record", "name": "O", "fields": [{"name": "a", "type": "int"}]})
    )
    result = CliRunner().invoke(
        cli,
        ["check", "--root", str(tmp_path / "repo"), "--against", "registry:", "--format", "json"],
        env={"STREAMGOV_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["against"] == f"registry:{url}"
