"""Pure pieces of the baselines: registry answers, credentials, URL redaction, `--against`."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import pytest

from registry.check.baselines import BaselineError
from registry.check.config import CheckConfig, ReferenceSpec
from registry.check.registry_baseline import RegistryBaseline, _specs, redact, registry_auth
from registry.check.runner import open_baseline


def test_malformed_references_are_left_out() -> None:
    body = {
        "references": [
            {"name": "a", "subject": "s", "version": 2},
            {"name": "b", "subject": "s", "version": "2"},
            {"name": "c", "subject": "s", "version": True},
            {"name": 5, "subject": "s", "version": 1},
            "junk",
        ]
    }
    assert _specs(body) == (ReferenceSpec("a", "s", 2),)
    assert _specs({"references": "junk"}) == ()
    assert _specs({}) == ()


def test_redact_drops_user_information() -> None:
    assert (
        redact("https://user:pw@sr.example.com:8081/base?x=1") == "https://sr.example.com:8081/base"
    )
    assert "pw" not in RegistryBaseline("http://u:pw@localhost:1").description


def _header(auth: httpx.Auth | None) -> str | None:
    request = httpx.Request("GET", "http://x")
    assert auth is not None
    return next(auth.auth_flow(request)).headers.get("Authorization")


def test_credentials_from_the_environment() -> None:
    basic = "Basic " + base64.b64encode(b"u:p").decode()
    assert (
        _header(registry_auth({"STREAMGOV_REGISTRY_USER": "u", "STREAMGOV_REGISTRY_PASSWORD": "p"}))
        == basic
    )
    assert _header(registry_auth({"STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO": "u:p"})) == basic
    assert (
        _header(registry_auth({"STREAMGOV_REGISTRY_TOKEN": "t", "STREAMGOV_REGISTRY_USER": "u"}))
        == "Bearer t"
    )
    assert registry_auth({}) is None
    assert "t0ken" not in repr(registry_auth({"STREAMGOV_REGISTRY_TOKEN": "t0ken"}))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git:main", "needs a git repository"),
        ("registry:localhost:8081", "must be http(s)://host[:port]"),
        ("nothing-like-this", "unknown baseline"),
        ("dir:missing", "does not exist"),
    ],
)
def test_against_errors(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(BaselineError, match=re.escape(message)):
        open_baseline(spec, tmp_path, None, CheckConfig())
