"""The `--tls-*` options of `streamgov up`: checked together, turned into `TlsSettings`, and
the certificate, key and CA loaded once before anything starts, so a bad file is one line
naming it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from acl.principal import MappingRuleError, parse_rules
from httpapi.tls import TlsError, TlsSettings, server_context

#: Where the password of an encrypted private key can come from (never an option's value,
#: which would show in the process list).
KEY_PASSWORD_ENV = "STREAMGOV_TLS_KEY_PASSWORD"


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
