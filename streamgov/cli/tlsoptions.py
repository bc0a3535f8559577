"""The `--tls-*` options of `streamgov up`: checked together, turned into `TlsSettings`, and
the certificate, key and CA loaded once before anything starts, so a bad file is one line
naming it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from acl.principal import MappingRuleError, parse_rules
from httpapi.tls import TlsError, TlsSettings, server_context

#: Where the password of an encrypted private key can come from (never an option's value,
#: which would show in the process list).
KEY_PASSWORD_ENV = "STREAMGOV_TLS_KEY_PASSWORD"

F = TypeVar("F", bound=Callable[..., Any])

#: The file options, in the order `--help` shows them: (flag, help).
FILE_OPTIONS = (
    (
        "--tls-cert",
        "Serve REST (https) and the Kafka listener (SSL, or SASL_SSL with --auth) over TLS "
        "with this PEM certificate (chain); needs --tls-key.",
    ),
    (
        "--tls-key",
        "The PEM private key of --tls-cert; an encrypted one reads its password from "
        f"{KEY_PASSWORD_ENV} or --tls-key-password-file.",
    ),
    (
        "--tls-key-password-file",
        f"A file holding the password of an encrypted --tls-key (or set {KEY_PASSWORD_ENV}).",
    ),
    (
        "--tls-ca",
        "Ask clients for a certificate issued by this PEM CA bundle; a verified "
        "certificate's subject is the principal (User:CN=alice,O=Acme) on REST and Kafka.",
    ),
)


def tls_options(func: F) -> F:
    """The `--tls-*` options (parameters tls_cert, tls_key, tls_key_password_file, tls_ca,
    tls_client_auth, tls_principal_mapping)."""
    func = click.option(
        "--tls-principal-mapping",
        "tls_principal_mapping",
        metavar="RULES",
        default=None,
        help="Kafka's ssl.principal.mapping.rules for client certificate subjects, e.g. "
        "'RULE:^CN=(.*?),.*$/$1/L,DEFAULT' (default: DEFAULT, the whole DN).",
    )(func)
    func = click.option(
        "--tls-client-auth",
        "tls_client_auth",
        type=click.Choice(["required", "requested"]),
        default=None,
        help="As Kafka's ssl.client.auth: a client certificate must be sent (required, the "
        "default with --tls-ca) or may be (requested).",
    )(func)
    for flag, text in reversed(FILE_OPTIONS):
        func = click.option(
            flag,
            flag[2:].replace("-", "_"),
            metavar="FILE",
            type=click.Path(path_type=Path, dir_okay=False),
            help=text,
        )(func)
    return func


def tls_settings(
    cert: Path | None,
    key: Path | None,
    key_password_file: Path | None,
    ca: Path | None,
    client_auth: str | None,
    principal_mapping: str | None,
) -> TlsSettings | None:
    """The TLS settings the options give (None without --tls-cert/--tls-key); a usage error
    for options that need others, a one-line error naming a file that cannot be used."""
    if cert is None or key is None:
        given = [
            name
            for name, value in (
                ("--tls-cert", cert),
                ("--tls-key", key),
                ("--tls-key-password-file", key_password_file),
                ("--tls-ca", ca),
                ("--tls-client-auth", client_auth),
                ("--tls-principal-mapping", principal_mapping),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(f"{given[0]} needs both --tls-cert and --tls-key")
        return None
    if ca is None and (client_auth is not None or principal_mapping is not None):
        what = "--tls-client-auth" if client_auth is not None else "--tls-principal-mapping"
        raise click.UsageError(f"{what} needs --tls-ca (the CA client certificates chain to)")
    try:
        parse_rules(principal_mapping)
    except MappingRuleError as exc:
        raise click.UsageError(f"--tls-principal-mapping: {exc}") from None
    settings = TlsSettings(
        cert=cert,
        key=key,
        ca=ca,
        client_auth=(client_auth or "required") if ca is not None else "none",
        principal_mapping=principal_mapping,
        key_password=_key_password(key_password_file),
    )
    try:
        server_context(settings)
    except TlsError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _key_password(file: Path | None) -> str | None:
    if file is None:
        return os.environ.get(KEY_PASSWORD_ENV) or None
    try:
        return file.read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise click.ClickException(f"cannot read the key password file {file}: {reason}") from None


def kafka_security(auth: bool, tls: TlsSettings | None) -> str:
    """The `security.protocol` Kafka clients use with the listener `up` starts."""
    if tls is None:
        return "SASL_PLAINTEXT" if auth else "PLAINTEXT"
    if not auth:
        return "SSL"
    return "SSL with a client certificate, or SASL_SSL" if tls.verifies_clients else "SASL_SSL"
