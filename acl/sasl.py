"""SASL/PLAIN and SASL/SCRAM-SHA-256/512 on the server side (RFC 4616, RFC 5802), over the
users' stored credentials. Pure: credentials come from a lookup function.

SCRAM as Kafka speaks it: `n,[a=<user>],n=<user>,r=<cnonce>[,ext]` (gs2 header `n` only),
answered with `r=<cnonce+snonce>,s=<salt>,i=<iterations>`; then `c=<b64 gs2 header>,r=<nonce>,
p=<proof>`, checked as H(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey and answered with
`v=<server signature>`. Every failure raises the same generic `AuthenticationFailedError`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable

from acl.credentials import MECHANISMS, ScramCredential, hash_digest, hmac_digest
from engine.auth import AuthenticationFailedError, SaslExchange

PLAIN = "PLAIN"
FAILED = "Authentication failed: invalid credentials"

CredentialLookup = Callable[[str, str], ScramCredential | None]
PasswordCheck = Callable[[str, str], bool]


class PlainExchange:
    """PLAIN: one token `[authzid] NUL user NUL password`; the authzid must be empty or the
    user."""

    def __init__(self, check_password: PasswordCheck) -> None:
        self._check = check_password

    def step(self, token: bytes) -> tuple[bytes, str | None]:
        """Verify the one token; the principal is `User:<user>`."""
        try:
            authzid, user, password = token.decode().split("\0")
        except (UnicodeDecodeError, ValueError):
            raise AuthenticationFailedError(FAILED) from None
        if not user or not password or authzid not in ("", user):
            raise AuthenticationFailedError(FAILED)
        if not self._check(user, password):
            raise AuthenticationFailedError(FAILED)
        return b"", f"User:{user}"


def _unescape(name: str) -> str:
    if "=" in name.replace("=2C", "").replace("=3D", ""):
        raise AuthenticationFailedError(FAILED)
    return name.replace("=2C", ",").replace("=3D", "=")


def _attributes(message: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise AuthenticationFailedError(FAILED)
        found.setdefault(key, value)
    return found


class ScramExchange:
    """SCRAM-SHA-256 or SCRAM-SHA-512 (two rounds)."""

    def __init__(self, mechanism: str, lookup: CredentialLookup) -> None:
        self._mechanism = mechanism
        self._lookup = lookup
        self._round = 0
        self._user = ""
        self._credential: ScramCredential | None = None
        self._nonce = ""
        self._gs2 = ""
        self._client_first_bare = ""
        self._server_first = ""

    def step(self, token: bytes) -> tuple[bytes, str | None]:
        """Answer the client-first or the client-final message."""
        try:
            text = token.decode()
        except UnicodeDecodeError:
            raise AuthenticationFailedError(FAILED) from None
        self._round += 1
        if self._round == 1:
            return self._first(text), None
        if self._round == 2:
            return self._final(text), f"User:{self._user}"
        raise AuthenticationFailedError(FAILED)

    def _first(self, text: str) -> bytes:
        flag, sep, rest = text.partition(",")
        authzid, sep2, bare = rest.partition(",")
        if flag != "n" or not sep or not sep2:
            raise AuthenticationFailedError(FAILED)
        attrs = _attributes(bare)
        user = _unescape(attrs.get("n", ""))
        cnonce = attrs.get("r", "")
        if not user or not cnonce or authzid not in ("", f"a={user}"):
            raise AuthenticationFailedError(FAILED)
        credential = self._lookup(user, self._mechanism)
        if credential is None:
            raise AuthenticationFailedError(FAILED)
        self._user, self._credential = user, credential
        self._gs2 = f"{flag},{authzid},"
        self._nonce = cnonce + secrets.token_urlsafe(18)
        self._client_first_bare = bare
        salt = base64.b64encode(credential.salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={credential.iterations}"
        return self._server_first.encode()

    def _final(self, text: str) -> bytes:
        credential = self._credential
        assert credential is not None
        without_proof, sep, proof_part = text.rpartition(",p=")
        if not sep:
            raise AuthenticationFailedError(FAILED)
        attrs = _attributes(without_proof)
        expected_binding = base64.b64encode(self._gs2.encode()).decode()
        if attrs.get("c") != expected_binding or attrs.get("r") != self._nonce:
            raise AuthenticationFailedError(FAILED)
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except (binascii.Error, ValueError):
            raise AuthenticationFailedError(FAILED) from None
        mech = self._mechanism
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = hmac_digest(mech, credential.stored_key, auth_message)
        if len(proof) != len(signature):
            raise AuthenticationFailedError(FAILED)
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hash_digest(mech, client_key), credential.stored_key):
            raise AuthenticationFailedError(FAILED)
        server_signature = hmac_digest(mech, credential.server_key, auth_message)
        return b"v=" + base64.b64encode(server_signature)


class SaslAuthenticator:
    """`engine.auth.Authenticator` over a credential lookup and a password check."""

    mechanisms: tuple[str, ...] = (PLAIN, *MECHANISMS)

    def __init__(self, lookup: CredentialLookup, check_password: PasswordCheck) -> None:
        self._lookup = lookup
        self._check_password = check_password

    def start(self, mechanism: str) -> SaslExchange:
        """A fresh exchange for the mechanism (ValueError for one not offered)."""
        if mechanism == PLAIN:
            return PlainExchange(self._check_password)
        if mechanism in MECHANISMS:
            return ScramExchange(mechanism, self._lookup)
        raise ValueError(f"SASL mechanism {mechanism!r} is not offered")
