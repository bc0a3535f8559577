"""User credentials as Kafka stores SCRAM credentials, and REST API tokens. Pure: no I/O.

A password is never kept: per mechanism (SCRAM-SHA-256, SCRAM-SHA-512) a user has a random
salt, an iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
ServerKey = HMAC(SaltedPassword, "Server Key") (RFC 5802), which is what a SCRAM exchange
needs and what a PLAIN or HTTP Basic password is checked against. An API token is kept as the
SHA-256 of its secret only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from acl.model import AclError

#: SCRAM mechanisms and their hash functions.
MECHANISMS: dict[str, str] = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
#: Kafka's bounds for iterations (ScramMechanism).
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384
TOKEN_PREFIX = "sgt_"
_USER_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")


class CredentialError(AclError):
    """A user name, password, mechanism or token that is not acceptable."""


def check_user_name(name: str) -> str:
    """A user name (letters, digits, `._@-`, up to 128), or CredentialError."""
    if not _USER_NAME.match(name):
        raise CredentialError(
            f"user name {name!r} must be 1-128 letters, digits or . _ @ - characters"
        )
    return name


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """One mechanism's stored credential (Kafka's UserScramCredentialRecord)."""

    mechanism: str
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form (bytes in base64)."""
        return {
            "mechanism": self.mechanism,
            "salt": _b64(self.salt),
            "stored_key": _b64(self.stored_key),
            "server_key": _b64(self.server_key),
            "iterations": self.iterations,
        }

    @staticmethod
    def from_dict(data: Any) -> ScramCredential:
        """From `to_dict`'s shape, or CredentialError."""
        mechanism = str(data["mechanism"])
        if mechanism not in MECHANISMS:
            raise CredentialError(f"unknown SCRAM mechanism {mechanism!r}")
        iterations = int(data["iterations"])
        if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
            raise CredentialError(
                f"iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}"
            )
        return ScramCredential(
            mechanism,
            base64.b64decode(data["salt"]),
            base64.b64decode(data["stored_key"]),
            base64.b64decode(data["server_key"]),
            iterations,
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def salted_password(mechanism: str, password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(password, salt, i) of RFC 5802 (PBKDF2 with HMAC); the password as UTF-8."""
    return hashlib.pbkdf2_hmac(MECHANISMS[mechanism], password.encode(), salt, iterations)


def hmac_digest(mechanism: str, key: bytes, message: bytes) -> bytes:
    """HMAC with the mechanism's hash."""
    return hmac.new(key, message, MECHANISMS[mechanism]).digest()


def hash_digest(mechanism: str, data: bytes) -> bytes:
    """H() with the mechanism's hash."""
    return hashlib.new(MECHANISMS[mechanism], data).digest()


def make_credential(
    mechanism: str, password: str, iterations: int = MIN_ITERATIONS, salt: bytes | None = None
) -> ScramCredential:
    """A fresh credential for the password (a random 32-byte salt unless given)."""
    if mechanism not in MECHANISMS:
        raise CredentialError(f"unknown SCRAM mechanism {mechanism!r}")
    if not password:
        raise CredentialError("the password must not be empty")
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise CredentialError(f"iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    salt = secrets.token_bytes(32) if salt is None else salt
    salted = salted_password(mechanism, password, salt, iterations)
    client_key = hmac_digest(mechanism, salted, b"Client Key")
    return ScramCredential(
        mechanism,
        salt,
        hash_digest(mechanism, client_key),
        hmac_digest(mechanism, salted, b"Server Key"),
        iterations,
    )


def make_credentials(password: str) -> dict[str, ScramCredential]:
    """One credential per mechanism."""
    return {mech: make_credential(mech, password) for mech in MECHANISMS}


def verify_password(credential: ScramCredential, password: str) -> bool:
    """Whether the password is the one the credential was made from (constant-time compare)."""
    if not password:
        return False
    salted = salted_password(credential.mechanism, password, credential.salt, credential.iterations)
    client_key = hmac_digest(credential.mechanism, salted, b"Client Key")
    stored = hash_digest(credential.mechanism, client_key)
    return hmac.compare_digest(stored, credential.stored_key)


# -- API tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as handed to its user once: the text to send, and what is stored."""

    token_id: str
    text: str
    digest: str


def issue_token() -> IssuedToken:
    """A new random token `sgt_<id>_<secret>`; only the secret's SHA-256 is stored."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return IssuedToken(token_id, f"{TOKEN_PREFIX}{token_id}_{secret}", token_digest(secret))


def token_digest(secret: str) -> str:
    """What is stored for a token's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(text: str) -> tuple[str, str] | None:
    """(token id, secret) of a token's text, or None when it is not one."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = text[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not token_id or not secret:
        return None
    return token_id, secret
