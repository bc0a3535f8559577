"""How every command that talks to a streamgov server (or any Confluent-compatible schema
registry) finds it and logs in: one set of environment variable names for all of them."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from streamgov.config import ConfigError

#: The one spelling of a streamgov server's address and credentials, for every command.
URL_ENV = "STREAMGOV_URL"
USER_ENV = "STREAMGOV_USER"
PASSWORD_ENV = "STREAMGOV_PASSWORD"
TOKEN_ENV = "STREAMGOV_TOKEN"
DEFAULT_SERVER_URL = "http://127.0.0.1:8081"
#: Old names still read (with a note on stderr) when the new one is not set.
DEPRECATED_ENV = {
    "STREAMGOV_REGISTRY_URL": URL_ENV,
    "STREAMGOV_REGISTRY_USER": USER_ENV,
    "STREAMGOV_REGISTRY_PASSWORD": PASSWORD_ENV,
    "STREAMGOV_REGISTRY_TOKEN": TOKEN_ENV,
}
_USER_INFO_ENV = "STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer TOKEN` on every request; the token never shows in `repr`."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


@dataclass(frozen=True)
class ServerAccess:
    """Where a streamgov server (or any Confluent-compatible registry) is and how to log in.

    Read from `STREAMGOV_URL`, `STREAMGOV_USER` + `STREAMGOV_PASSWORD` or `STREAMGOV_TOKEN`;
    a `..._FILE` variant of the password and the token reads the secret from a file. The old
    `STREAMGOV_REGISTRY_*` names still work and add a note to `notes`."""

    url: str = DEFAULT_SERVER_URL
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, url: str | None = None, env: Mapping[str, str] | None = None) -> ServerAccess:
        """The access the environment describes; `url` (an option) wins over `STREAMGOV_URL`."""
        environ = os.environ if env is None else env
        notes: list[str] = []

        def read(name: str, secret: bool = False) -> str | None:
            if environ.get(name):
                return environ[name]
            if secret and environ.get(f"{name}_FILE"):
                path = Path(environ[f"{name}_FILE"]).expanduser()
                try:
                    return path.read_text(encoding="utf-8").removesuffix("\n")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"cannot read {name}_FILE ({path}): {exc}") from None
            for old, new in DEPRECATED_ENV.items():
                if new == name and environ.get(old):
                    notes.append(f"{old} is deprecated: set {new} instead")
                    return environ[old]
            return None

        user, password = read(USER_ENV), read(PASSWORD_ENV, secret=True)
        if user is None and environ.get(_USER_INFO_ENV):
            notes.append(f"{_USER_INFO_ENV} is deprecated: set {USER_ENV} and {PASSWORD_ENV}")
            user, _, password = environ[_USER_INFO_ENV].partition(":")
        return cls(
            url=url or read(URL_ENV) or DEFAULT_SERVER_URL,
            user=user,
            password=password,
            token=read(TOKEN_ENV, secret=True),
            notes=tuple(notes),
        )

    def auth(self) -> httpx.Auth | None:
        """The HTTP authentication to use: the token if set, else basic auth, else none."""
        if self.token:
            return BearerAuth(self.token)
        if self.user:
            return httpx.BasicAuth(self.user, self.password or "")
        return None
