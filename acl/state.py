"""Access control's state and the fold that builds it from the `_acls` log. Pure: no I/O.

The state holds the ACLs (indexed for decisions), the users' stored credentials, the API
tokens' digests and the authorizer settings (super users, allow.everyone.if.no.acl.found), so
every server and every CLI reading the log decides alike. Command constructors sit next to
their handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from acl.authorizer import AclIndex, AuthorizerSettings
from acl.credentials import MECHANISMS, CredentialError, ScramCredential, check_user_name
from acl.model import Acl, AclError, AclFilter, check_principal
from engine.statelog import Command, Fold, SnapshotCodec, Unchanged, command

Json = Any


class NotFoundError(AclError):
    """A user or token that does not exist."""


@dataclass(frozen=True, slots=True)
class Token:
    """An API token's stored part: whose it is and the digest of its secret."""

    token_id: str
    user: str
    digest: str
    created: float


@dataclass
class AclState:
    """Everything access control knows; built only by the fold."""

    acls: AclIndex = field(default_factory=AclIndex)
    #: user -> mechanism -> credential
    users: dict[str, dict[str, ScramCredential]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    settings: AuthorizerSettings = field(default_factory=AuthorizerSettings)

    def credential(self, user: str, mechanism: str) -> ScramCredential | None:
        """The user's credential for a mechanism, if any."""
        return self.users.get(user, {}).get(mechanism)


def initial_state() -> AclState:
    """The state of an empty log."""
    return AclState()


# -- commands -------------------------------------------------------------------------------------


def add_acls(acls: Iterable[Acl]) -> Command:
    """Add bindings (those present already are left alone)."""
    return command("acls.add", acls=[acl.to_dict() for acl in acls])


def remove_acls(filters: Iterable[AclFilter]) -> Command:
    """Remove every binding any of the filters selects."""
    return command("acls.remove", filters=[f.to_dict() for f in filters])


def set_user(name: str, credentials: Mapping[str, ScramCredential]) -> Command:
    """Create a user or replace their credentials."""
    return command("user.set", name=name, credentials=[c.to_dict() for c in credentials.values()])


def delete_user(name: str) -> Command:
    """Delete a user and their tokens."""
    return command("user.delete", name=name)


def add_token(token: Token) -> Command:
    """Store an issued token's digest."""
    return command(
        "token.add",
        token_id=token.token_id,
        user=token.user,
        digest=token.digest,
        created=token.created,
    )


def delete_token(token_id: str) -> Command:
    """Revoke a token."""
    return command("token.delete", token_id=token_id)


def set_settings(super_users: Iterable[str], allow_everyone_if_no_acl_found: bool) -> Command:
    """Set the authorizer's settings."""
    return command(
        "settings.set",
        super_users=sorted({check_principal(p) for p in super_users}),
        allow_everyone_if_no_acl_found=bool(allow_everyone_if_no_acl_found),
    )


# -- handlers -------------------------------------------------------------------------------------


def _acls_add(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    acls = [Acl.from_dict(item) for item in cmd["acls"]]
    new = sorted({acl for acl in acls if acl not in state.acls})
    if not new:
        return Unchanged([])
    if commit:
        for acl in new:
            state.acls.add(acl)
    return new


def _acls_remove(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    filters = [AclFilter.from_dict(item) for item in cmd["filters"]]
    gone = [acl for acl in state.acls if any(f.matches(acl) for f in filters)]
    if not gone:
        return Unchanged([])
    if commit:
        for acl in gone:
            state.acls.remove(acl)
    return gone


def _user_set(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    name = check_user_name(str(cmd["name"]))
    try:
        creds = {c.mechanism: c for c in map(ScramCredential.from_dict, cmd["credentials"])}
    except CredentialError as exc:
        raise AclError(str(exc)) from None
    if not creds:
        raise AclError(f"user {name!r} needs at least one of {', '.join(MECHANISMS)}")
    if commit:
        state.users[name] = creds
    return name


def _user_delete(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    name = str(cmd["name"])
    if name not in state.users:
        raise NotFoundError(f"no user {name!r}")
    if commit:
        del state.users[name]
        for token_id in [t.token_id for t in state.tokens.values() if t.user == name]:
            del state.tokens[token_id]
    return name


def _token_add(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    token = Token(str(cmd["token_id"]), str(cmd["user"]), str(cmd["digest"]), float(cmd["created"]))
    if token.user not in state.users:
        raise NotFoundError(f"no user {token.user!r}")
    if token.token_id in state.tokens:
        raise AclError(f"token {token.token_id} exists already")
    if commit:
        state.tokens[token.token_id] = token
    return token.token_id


def _token_delete(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    token_id = str(cmd["token_id"])
    if token_id not in state.tokens:
        raise NotFoundError(f"no token {token_id!r}")
    if commit:
        del state.tokens[token_id]
    return token_id


def _settings_set(state: AclState, cmd: Mapping[str, Any], commit: bool) -> Any:
    settings = AuthorizerSettings(
        frozenset(check_principal(str(p)) for p in cmd["super_users"]),
        bool(cmd["allow_everyone_if_no_acl_found"]),
    )
    if settings == state.settings:
        return Unchanged(settings)
    if commit:
        state.settings = settings
    return settings


_HANDLERS = {
    "acls.add": _acls_add,
    "acls.remove": _acls_remove,
    "user.set": _user_set,
    "user.delete": _user_delete,
    "token.add": _token_add,
    "token.delete": _token_delete,
    "settings.set": _settings_set,
}


# -- snapshots ------------------------------------------------------------------------------------


def dump_state(state: AclState) -> Iterator[Json]:
    """The state as JSON pieces for a snapshot (see `load_state`)."""
    batch: list[dict[str, str]] = []
    for acl in state.acls:
        batch.append(acl.to_dict())
        if len(batch) == 1000:
            yield {"k": "acls", "acls": batch}
            batch = []
    if batch:
        yield {"k": "acls", "acls": batch}
    for name, creds in state.users.items():
        yield {"k": "user", "name": name, "credentials": [c.to_dict() for c in creds.values()]}
    for token in state.tokens.values():
        yield {"k": "token", **add_token(token)}
    yield {
        "k": "settings",
        "super_users": sorted(state.settings.super_users),
        "allow_everyone_if_no_acl_found": state.settings.allow_everyone_if_no_acl_found,
    }


def load_state(pieces: Iterator[Json]) -> AclState:
    """Rebuild the state from `dump_state`'s pieces."""
    state = AclState()
    for piece in pieces:
        kind = piece["k"]
        if kind == "acls":
            for item in piece["acls"]:
                state.acls.add(Acl.from_dict(item))
        elif kind == "user":
            _user_set(state, piece, True)
        elif kind == "token":
            _token_add(state, piece, True)
        elif kind == "settings":
            _settings_set(state, piece, True)
        else:
            raise ValueError(f"unknown snapshot piece {kind!r}")
    return state


FOLD: Fold[AclState] = Fold(
    initial_state, _HANDLERS, snapshot=SnapshotCodec("acl-1", dump_state, load_state)
)
