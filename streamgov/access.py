"""How every command that talks to a streamgov server (or any Confluent-compatible schema
registry) finds it and logs in: one set of environment variable names for all of them."""

from __future__ import annotations

import os
import ssl
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from httpapi.tls import ClientCertificate, ClientTlsError, client_context
from streamgov.config import ConfigError

#: The one spelling of a streamgov server's address and credentials, for every command.
URL_ENV = "STREAMGOV_URL"
USER_ENV = "STREAMGOV_USER"
PASSWORD_ENV = "STREAMGOV_PASSWORD"
TOKEN_ENV = "STREAMGOV_TOKEN"
TLS_CA_ENV = "STREAMGOV_TLS_CA"
TLS_CERT_ENV = "STREAMGOV_TLS_CERT"
TLS_KEY_ENV = "STREAMGOV_TLS_KEY"
#: Also what `streamgov up` reads for an encrypted `--tls-key`: the password of the key in use.
TLS_KEY_PASSWORD_ENV = "STREAMGOV_TLS_KEY_PASSWORD"
DEFAULT_SERVER_URL = "http://127.0.0.1:8081"
#: The client-side TLS files, by what `ClientTlsError.which` calls them.
TLS_FILE_ENV = {"ca": TLS_CA_ENV, "cert": TLS_CERT_ENV, "key": TLS_KEY_ENV}
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
    `STREAMGOV_REGISTRY_*` names still work and add a note to `notes`. For https:
    `STREAMGOV_TLS_CA` (the CA bundle to trust), `STREAMGOV_TLS_CERT` + `STREAMGOV_TLS_KEY`
    (a client certificate; an encrypted key's password from `STREAMGOV_TLS_KEY_PASSWORD` or
    its `_FILE` variant)."""

    url: str = DEFAULT_SERVER_URL
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    tls_ca: Path | None = None
    tls_certificate: ClientCertificate | None = None
    #: built once from the two above by `from_env` (so a bad file fails before any request)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

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
        ca, cert, key = (environ.get(name) or None for name in TLS_FILE_ENV.values())
        if (cert is None) != (key is None):
            given, missing = (
                (TLS_CERT_ENV, TLS_KEY_ENV) if key is None else (TLS_KEY_ENV, TLS_CERT_ENV)
            )
            raise ConfigError(
                f"{given} is set but {missing} is not: a client certificate needs both"
            )
        certificate = None
        if cert is not None and key is not None:
            certificate = ClientCertificate(
                Path(cert).expanduser(),
                Path(key).expanduser(),
                read(TLS_KEY_PASSWORD_ENV, secret=True),
            )
        access = cls(
            url=url or read(URL_ENV) or DEFAULT_SERVER_URL,
            user=user,
            password=password,
            token=read(TOKEN_ENV, secret=True),
            notes=tuple(notes),
            tls_ca=Path(ca).expanduser() if ca else None,
            tls_certificate=certificate,
        )
        return replace(access, ssl_context=access.tls_context())

    def tls_context(self) -> ssl.SSLContext | None:
        """A context trusting `tls_ca` and presenting the client certificate (None when
        neither is set). A file that cannot be used is a `ConfigError` naming its variable
        and path."""
        if self.ssl_context is not None:
            return self.ssl_context
        if self.tls_ca is None and self.tls_certificate is None:
            return None
        try:
            return client_context(self.tls_ca, self.tls_certificate)
        except ClientTlsError as exc:
            raise ConfigError(f"{TLS_FILE_ENV[exc.which]}: {exc}") from None

    def verify(self) -> ssl.SSLContext | bool:
        """What an httpx client's `verify` should be: `tls_context()`, or True (httpx's
        default trust, which honours `SSL_CERT_FILE`) when no TLS variable is set."""
        context = self.tls_context()
        return True if context is None else context

    def auth(self) -> httpx.Auth | None:
        """The HTTP authentication to use: the token if set, else basic auth, else none."""
        if self.token:
            return BearerAuth(self.token)
        if self.user:
            return httpx.BasicAuth(self.user, self.password or "")
        return None
