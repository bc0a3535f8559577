"""TLS for the servers `streamgov up` runs: the settings (certificate, key, the CA client
certificates are checked against), the one `ssl.SSLContext` built from them with errors that
name the file at fault, and a uvicorn HTTP protocol that hands the verified client
certificate to the application as the ASGI TLS extension (`scope["extensions"]["tls"]`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: `--tls-client-auth`, as Kafka's `ssl.client.auth`: a client certificate must be sent, may
#: be sent (and is verified when it is), or is not asked for.
CLIENT_AUTH = {"required": ssl.CERT_REQUIRED, "requested": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}
_TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Any, Any], Awaitable[None]]


class TlsError(Exception):
    """A certificate, key or CA file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class TlsSettings:
    """Where the server's certificate and key are, and how clients are authenticated."""

    cert: Path
    key: Path
    #: CA bundle that client certificates must chain to; None: client certificates not asked
    ca: Path | None = None
    #: `required`, `requested` or `none` (only `none` without `ca`)
    client_auth: str = "none"
    #: Kafka's `ssl.principal.mapping.rules` applied to a client certificate's subject
    principal_mapping: str | None = None
    #: the private key's password, if it is encrypted (never shown)
    key_password: str | None = field(default=None, repr=False)

    @property
    def verifies_clients(self) -> bool:
        """Whether client certificates are asked for (and verified when sent)."""
        return self.ca is not None and self.client_auth != "none"


def _readable(path: Path, what: str) -> None:
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise TlsError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """The server-side context (TLS 1.2 and later) for `settings`; raises `TlsError` naming
    the file that is missing, unreadable, not PEM, or whose key does not match."""
    if settings.client_auth not in CLIENT_AUTH:
        raise TlsError(f"--tls-client-auth must be one of {', '.join(CLIENT_AUTH)}")
    _readable(settings.cert, "TLS certificate")
    _readable(settings.key, "TLS private key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.cert, settings.key, password=settings.key_password or "")
    except ssl.SSLError as exc:
        raise TlsError(_chain_problem(settings, exc)) from None
    except OSError as exc:
        raise TlsError(f"cannot load {settings.cert} with {settings.key}: {exc}") from None
    if settings.ca is not None:
        _readable(settings.ca, "TLS CA file")
        try:
            context.load_verify_locations(cafile=str(settings.ca))
        except (ssl.SSLError, OSError):
            raise TlsError(f"the TLS CA file {settings.ca} holds no PEM certificate") from None
        context.verify_mode = CLIENT_AUTH[settings.client_auth]
    return context


def _chain_problem(settings: TlsSettings, exc: ssl.SSLError) -> str:
    """What went wrong loading the certificate and key, naming the file."""
    return _chain_fault(settings.cert, settings.key, exc)[1]


def _chain_fault(cert: Path, key: Path, exc: ssl.SSLError) -> tuple[str, str]:
    """Which file (`cert` or `key`) made loading the pair fail, and why, naming it."""
    reason = (exc.reason or "").upper()
    if "KEY_VALUES_MISMATCH" in reason:
        return "key", f"the TLS private key {key} does not match the certificate {cert}"
    if _encrypted(key):
        return "key", f"cannot decrypt the TLS private key {key}: wrong or missing password"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(cafile=str(cert))
    except (ssl.SSLError, OSError):
        return "cert", f"the TLS certificate {cert} holds no PEM certificate"
    return "key", f"the TLS private key {key} holds no usable PEM private key"


class ClientTlsError(TlsError):
    """A client-side TLS file that cannot be used; `which` is `ca`, `cert` or `key`."""

    def __init__(self, which: str, message: str) -> None:
        super().__init__(message)
        self.which = which


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate (PEM, may hold the chain) and its private key, presented to a
    server that asks for one; the key's password is never shown."""

    cert: Path
    key: Path
    key_password: str | None = field(default=None, repr=False)


def client_context(
    ca: Path | None = None, certificate: ClientCertificate | None = None
) -> ssl.SSLContext:
    """The context an HTTP client uses to reach a server over TLS (1.2 and later): it trusts
    the PEM bundle `ca` (else the default bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` as
    httpx reads them) and presents `certificate` when the server asks. Raises
    `ClientTlsError` naming the file that is missing, unreadable, not PEM or whose key does
    not match; an encrypted key never makes OpenSSL prompt."""
    if ca is not None:
        _client_file(ca, "ca", "TLS CA file")
        try:
            context = ssl.create_default_context(cafile=str(ca))
        except (ssl.SSLError, OSError):
            raise ClientTlsError("ca", f"the TLS CA file {ca} holds no PEM certificate") from None
    else:
        import httpx  # its default trust: certifi, or SSL_CERT_FILE / SSL_CERT_DIR

        context = httpx.create_ssl_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate is not None:
        _client_file(certificate.cert, "cert", "TLS certificate")
        _client_file(certificate.key, "key", "TLS private key")
        try:
            context.load_cert_chain(
                certificate.cert, certificate.key, password=certificate.key_password or ""
            )
        except ssl.SSLError as exc:
            raise ClientTlsError(*_chain_fault(certificate.cert, certificate.key, exc)) from None
        except OSError as exc:
            raise ClientTlsError(
                "cert", f"cannot load {certificate.cert} with {certificate.key}: {exc}"
            ) from None
    return context


def _client_file(path: Path, which: str, what: str) -> None:
    try:
        _readable(path, what)
    except TlsError as exc:
        raise ClientTlsError(which, str(exc)) from None


def _encrypted(key: Path) -> bool:
    """Whether a PEM key file holds an encrypted key (PKCS#8 or the older OpenSSL form)."""
    try:
        text = key.read_bytes()
    except OSError:
        return False
    return b"BEGIN ENCRYPTED PRIVATE KEY" in text or b"Proc-Type: 4,ENCRYPTED" in text


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> dict[str, Any]:
    """The ASGI TLS extension for one connection: the verified client certificate (PEM; an
    empty chain when none was sent) and the protocol version."""
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


def client_certificate(scope: Scope) -> bytes | None:
    """The DER client certificate the TLS extension of `scope` carries, if any."""
    chain = (scope.get("extensions") or {}).get("tls", {}).get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None


class _WithTls:
    """The application, with one connection's TLS extension added to every scope."""

    def __init__(self, app: App, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["extensions"] = {**(scope.get("extensions") or {}), "tls": self.tls}
        await self.app(scope, receive, send)


def tls_http_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, reporting each TLS connection's client certificate through
    the ASGI TLS extension (uvicorn itself does not)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class TlsHttpProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                app: App = self.app  # type: ignore[has-type]
                self.app = _WithTls(app, tls_extension(ssl_object))

    return TlsHttpProtocol


def uvicorn_config(app: Any, tls: TlsSettings | None, **options: Any) -> Any:
    """A loaded `uvicorn.Config` for `app`; with `tls`, served over TLS with the context of
    `server_context` (built here, so its errors are `TlsError`) and the client certificate
    in every scope."""
    import uvicorn

    if tls is None:
        return uvicorn.Config(app, **options)
    context = server_context(tls)
    config = uvicorn.Config(app, http=tls_http_protocol(), **options)
    config.load()
    config.ssl = context  # uvicorn serves with `config.ssl` once loaded
    return config


#: What an HTTP client accepts as its `verify`: a ready context, True (default trust), False
#: (no verification) or the path of a CA bundle to trust.
Verify = ssl.SSLContext | bool | str | Path


def client_verify(
    verify: Verify = True, cert: ClientCertificate | None = None
) -> ssl.SSLContext | bool:
    """`verify` and `cert` as the one `verify` value httpx takes: a CA path or a client
    certificate becomes a `client_context` (errors: `ClientTlsError`); a context is used as
    given, and then carries any client certificate itself."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise ValueError("give the client certificate in the SSL context, or a CA path")
        return verify
    if isinstance(verify, bool) and cert is None:
        return verify
    context = client_context(None if isinstance(verify, bool) else Path(verify), cert)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
