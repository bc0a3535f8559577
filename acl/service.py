"""Access control over one cluster: the fold over `_acls` kept current, ACL management,
users and tokens, and the `engine.auth.Authorizer` every listener and router consults.

Decisions read the local state (no I/O); a server keeps it current with `run_in_background`,
so ACLs changed by another instance or by the CLI take effect within `refresh_seconds`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from acl import state as commands
from acl.audit import AuditLog, authorization_event, management_event
from acl.authorizer import AuthorizerSettings, Decision
from acl.credentials import (
    MECHANISMS,
    ScramCredential,
    check_user_name,
    issue_token,
    make_credentials,
    split_token,
    token_digest,
    verify_password,
)
from acl.derived import check_single_writer, single_writer_violations
from acl.model import Acl, AclError, AclFilter, Operation, ResourceType
from acl.sasl import SaslAuthenticator
from acl.state import AclState, NotFoundError, Token
from engine.cluster import Cluster
from engine.statelog import StateLog

ACLS_TOPIC = "_acls"
#: the principal of local CLI commands on the embedded engine (they hold the files)
LOCAL_OPERATOR = "User:local-operator"
DENIAL_REPEAT_S = 10.0


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What `users list` shows: a name, its mechanisms and how many tokens it holds."""

    name: str
    mechanisms: tuple[str, ...]
    tokens: int


class AccessControl:
    """ACLs, users and tokens over one cluster (see the module docstring)."""

    def __init__(
        self,
        cluster: Cluster,
        topic: str = ACLS_TOPIC,
        *,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        owners: Callable[[], Mapping[str, tuple[str, ...]]] | None = None,
    ) -> None:
        """`owners`: topic -> its owner's principals (from the catalog), for the
        single-writer rule; without it no grant is refused for that reason."""
        self.cluster = cluster
        self._log: StateLog[AclState] = StateLog(cluster, topic, commands.FOLD)
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._owners = owners
        #: where denials (and, with `audit_changes`, this instance's changes) are recorded
        self.audit: AuditLog | None = None
        self.audit_changes = False
        #: who this instance's changes are made by (the CLI is the local operator)
        self.actor = LOCAL_OPERATOR
        self._denials: dict[tuple[str, str, str, str], float] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> AccessControl:
        """Create the topic if missing and read the log."""
        self._log.start()
        return self

    def run_in_background(self) -> None:
        """Catch up with the log every `refresh_seconds` (changes made elsewhere)."""
        self._log.follow(self._refresh_seconds, "acl")

    def close(self) -> None:
        """Stop the background refresh and the log."""
        self._log.close()

    def sync(self) -> None:
        """Catch up with the log now."""
        self._log.sync()

    # -- ACLs --------------------------------------------------------------------------------

    def add(self, acls: Iterable[Acl], *, force: bool = False) -> list[Acl]:
        """Add bindings; returns those that were new. A grant letting a non-owner write an
        owned stream raises `SingleWriterError` unless `force`."""
        acls = list(acls)
        if not force and self._owners is not None:
            check_single_writer(acls, self._owners())
        added: list[Acl] = self._log.write(commands.add_acls(acls))
        for acl in added:
            self._changed("acl.add", acl.describe())
        return added

    def remove(self, filters: Iterable[AclFilter]) -> list[Acl]:
        """Remove every binding a filter selects; returns them."""
        removed: list[Acl] = self._log.write(commands.remove_acls(filters))
        for acl in removed:
            self._changed("acl.remove", acl.describe())
        return removed

    def acls(self, selector: AclFilter | None = None) -> list[Acl]:
        """The bindings the filter selects (all without one), sorted."""
        with self._log.read() as state:
            return [acl for acl in state.acls if selector is None or selector.matches(acl)]

    def owners_of(self, topic: str) -> tuple[str, ...]:
        """The principals of the stream's owner in the catalog (empty when not owned)."""
        return self._owners().get(topic, ()) if self._owners is not None else ()

    def settings(self) -> AuthorizerSettings:
        """The authorizer settings in force."""
        with self._log.read() as state:
            return state.settings

    def configure(
        self, super_users: Iterable[str], allow_everyone_if_no_acl_found: bool = False
    ) -> AuthorizerSettings:
        """Set the super users and the no-ACL default."""
        result: AuthorizerSettings = self._log.write(
            commands.set_settings(super_users, allow_everyone_if_no_acl_found)
        )
        return result

    # -- decisions ---------------------------------------------------------------------------

    def decide(
        self,
        principal: str,
        operation: Operation | str,
        resource_type: ResourceType | str,
        name: str,
        host: str | None = None,
        *,
        settings: AuthorizerSettings | None = None,
        audit: bool = True,
    ) -> Decision:
        """The decision on the local state (no I/O), with the server's settings unless
        others are given; a denial is audited unless `audit` is False (a listing leaving out
        what the principal may not see is not a denied request)."""
        with self._log.current() as state:
            decision = state.acls.decide(
                settings or state.settings,
                principal,
                Operation(operation),
                ResourceType(resource_type),
                name,
                host,
            )
        if audit and not decision.allowed and self.audit is not None:
            self._denied(principal, str(operation), str(resource_type), name, host, decision)
        return decision

    def _denied(
        self,
        principal: str,
        operation: str,
        resource_type: str,
        name: str,
        host: str | None,
        decision: Decision,
    ) -> None:
        """Record a denial (the same denial at most once per `DENIAL_REPEAT_S`, so a client
        retrying in a loop does not flood the audit log)."""
        assert self.audit is not None
        key = (principal, operation, resource_type, name)
        now = time.monotonic()
        if self._denials.get(key, -DENIAL_REPEAT_S) > now - DENIAL_REPEAT_S:
            return
        if len(self._denials) > 10_000:
            self._denials.clear()
        self._denials[key] = now
        acl = decision.acl
        decided_by = None if acl is None else {"permissionType": acl.permission, "host": acl.host}
        self.audit.emit(
            authorization_event(
                self.cluster.name,
                principal,
                operation,
                resource_type,
                name,
                False,
                method="authorize",
                client_address=host,
                decided_by=decided_by,
            )
        )

    def _changed(self, method: str, resource: str) -> None:
        if self.audit is not None and self.audit_changes:
            self.audit.emit(management_event(self.cluster.name, self.actor, method, resource))

    def changed(self, principal: str, method: str, resource: str, host: str | None) -> None:
        """`engine.auth.ChangeAuditor`: a change a listener client was allowed to make,
        recorded in the audit log as its principal."""
        if self.audit is not None:
            self.audit.emit(
                management_event(
                    self.cluster.name, principal, method, resource, client_address=host
                )
            )

    def authorize(
        self,
        principal: str,
        operation: str,
        resource_type: str,
        resource_name: str,
        host: str | None = None,
    ) -> bool:
        """`engine.auth.Authorizer`: True when allowed (without `host`, only ACLs for any
        host apply)."""
        return self.decide(principal, operation, resource_type, resource_name, host).allowed

    # -- the listener's admin APIs (engine.auth.AclAdmin) ------------------------------------

    def create_acl_bindings(self, bindings: Sequence[Mapping[str, str | None]]) -> list[str | None]:
        """Create each valid binding; per binding None or why it was refused."""
        owners = self._owners() if self._owners is not None else {}
        outcomes: list[str | None] = []
        valid: list[Acl] = []
        for binding in bindings:
            try:
                acl = Acl.from_dict(dict(binding))
            except AclError as exc:
                outcomes.append(str(exc))
                continue
            problems = single_writer_violations([acl], owners)
            outcomes.append("; ".join(problems) if problems else None)
            if not problems:
                valid.append(acl)
        if valid:
            self.add(valid, force=True)  # checked one by one above
        return outcomes

    def describe_acl_bindings(self, selector: Mapping[str, str | None]) -> list[dict[str, str]]:
        """The bindings the filter selects (ValueError for a filter that is not valid)."""
        try:
            chosen = AclFilter.from_dict(dict(selector))
        except AclError as exc:
            raise ValueError(str(exc)) from None
        return [acl.to_dict() for acl in self.acls(chosen)]

    def delete_acl_bindings(
        self, selectors: Sequence[Mapping[str, str | None]]
    ) -> list[list[dict[str, str]]]:
        """Delete what each filter selects; per filter what it deleted."""
        try:
            filters = [AclFilter.from_dict(dict(s)) for s in selectors]
        except AclError as exc:
            raise ValueError(str(exc)) from None
        removed = self.remove(filters)
        return [[a.to_dict() for a in removed if f.matches(a)] for f in filters]

    def authenticator(self) -> SaslAuthenticator:
        """SASL PLAIN and SCRAM over the users' stored credentials."""
        return SaslAuthenticator(self.credential, self.check_password)

    # -- users and tokens --------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> str:
        """Create the user (or replace their password) with one credential per mechanism."""
        check_user_name(name)
        result: str = self._log.write(commands.set_user(name, make_credentials(password)))
        self._changed("user.set", f"User:{name}")
        return result

    def set_credentials(self, name: str, credentials: dict[str, ScramCredential]) -> str:
        """Store credentials computed elsewhere (AlterUserScramCredentials)."""
        result: str = self._log.write(commands.set_user(name, credentials))
        return result

    def delete_user(self, name: str) -> str:
        """Delete the user and revoke their tokens (NotFoundError if unknown)."""
        result: str = self._log.write(commands.delete_user(name))
        self._changed("user.delete", f"User:{name}")
        return result

    def users(self) -> list[UserInfo]:
        """Every user, by name."""
        with self._log.read() as state:
            return [
                UserInfo(
                    name,
                    tuple(sorted(creds)),
                    sum(1 for t in state.tokens.values() if t.user == name),
                )
                for name, creds in sorted(state.users.items())
            ]

    def issue_token(self, user: str) -> str:
        """A new API token for the user; its text is shown once and never stored."""
        issued = issue_token()
        self._log.write(
            commands.add_token(Token(issued.token_id, user, issued.digest, self._clock()))
        )
        self._changed("token.add", f"User:{user}")
        return issued.text

    def revoke_token(self, token_id: str) -> str:
        """Revoke a token by id."""
        result: str = self._log.write(commands.delete_token(token_id))
        return result

    def credential(self, user: str, mechanism: str) -> ScramCredential | None:
        """The stored credential for a SCRAM exchange (local state, no I/O)."""
        with self._log.current() as state:
            return state.credential(user, mechanism)

    def check_password(self, user: str, password: str) -> bool:
        """Whether the password is the user's (checked against the stored SCRAM-SHA-256
        credential; the password itself was never stored)."""
        with self._log.current() as state:
            creds = state.users.get(user, {})
            credential = next((creds[m] for m in MECHANISMS if m in creds), None)
        return credential is not None and verify_password(credential, password)

    def check_token(self, text: str) -> str | None:
        """The user a token belongs to, or None for anything else."""
        parts = split_token(text)
        if parts is None:
            return None
        token_id, secret = parts
        with self._log.current() as state:
            token = state.tokens.get(token_id)
        if token is None or not hmac.compare_digest(token.digest, token_digest(secret)):
            return None
        return token.user


__all__ = ["ACLS_TOPIC", "AccessControl", "NotFoundError", "UserInfo"]
