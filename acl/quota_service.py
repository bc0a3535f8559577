"""Client quotas over one cluster: the fold over `_quotas` kept current, quota management
(CLI, DescribeClientQuotas, AlterClientQuotas) and the `engine.auth.ClientQuotas` a listener
asks how long to throttle a client.

Measuring reads only the local state (no I/O); a server keeps it current with
`run_in_background`, so quotas changed by another instance or by the CLI apply within
`refresh_seconds`. Every change is recorded in the audit log as a management event.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from acl.audit import AuditLog, management_event
from acl.quota_state import FOLD, QuotaAlteration, QuotaChange, QuotaState, alter
from acl.quotas import (
    QUOTA_KEYS,
    REQUEST_PERCENTAGE,
    FilterComponent,
    QuotaEntity,
    QuotaError,
    Resolved,
    resolve,
    select,
    user_of,
)
from acl.rates import DEFAULT_SAMPLES, DEFAULT_WINDOW_MS, WindowedRate, record_and_throttle
from acl.service import LOCAL_OPERATOR
from engine.auth import QuotaEntityParts
from engine.cluster import Cluster
from engine.statelog import StateLog

QUOTAS_TOPIC = "_quotas"
#: rates idle this long are forgotten once there are many (their windows are all expired)
_MAX_RATES = 10_000


@dataclass(frozen=True, slots=True)
class QuotaSettings:
    """Kafka's `quota.window.num` and `quota.window.size.seconds` (as milliseconds)."""

    samples: int = DEFAULT_SAMPLES
    window_ms: float = DEFAULT_WINDOW_MS


class ClientQuotaService:
    """Client quotas over one cluster (see the module docstring)."""

    def __init__(
        self,
        cluster: Cluster,
        topic: str = QUOTAS_TOPIC,
        *,
        settings: QuotaSettings | None = None,
        refresh_seconds: float = 1.0,
    ) -> None:
        self.cluster = cluster
        self.settings = settings or QuotaSettings()
        self._log: StateLog[QuotaState] = StateLog(cluster, topic, FOLD)
        self._refresh_seconds = refresh_seconds
        #: where changes are recorded (None: not recorded)
        self.audit: AuditLog | None = None
        #: who this instance's own changes are made by (the CLI is the local operator)
        self.actor = LOCAL_OPERATOR
        self._rates: dict[tuple[str, str, str], WindowedRate] = {}
        self._resolved: dict[tuple[str, str], dict[str, Resolved]] = {}
        self._resolved_version = -1
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ClientQuotaService:
        """Create the topic if missing and read the log."""
        self._log.start()
        return self

    def run_in_background(self) -> None:
        """Catch up with the log every `refresh_seconds` (changes made elsewhere)."""
        self._log.follow(self._refresh_seconds, "quotas")

    def close(self) -> None:
        """Stop the background refresh and the log."""
        self._log.close()

    def sync(self) -> None:
        """Catch up with the log now."""
        self._log.sync()

    # -- management --------------------------------------------------------------------------

    def alter(
        self, alterations: Sequence[QuotaAlteration], *, actor: str | None = None
    ) -> list[QuotaChange]:
        """Set and remove values (all or nothing); the entities that changed. QuotaError
        names what is wrong with a refused alteration."""
        changes: list[QuotaChange] = self._log.write(alter(alterations))
        for change in changes:
            self._audit(actor or self.actor, change)
        return changes

    def check(self, alterations: Sequence[QuotaAlteration]) -> None:
        """Raise QuotaError if `alter` would refuse the alterations; change nothing."""
        with self._log.read() as state:
            FOLD.validate(state, alter(alterations))

    def quotas(self) -> dict[QuotaEntity, dict[str, float]]:
        """Every entity with quota values, caught up with the log."""
        with self._log.read() as state:
            return {e: dict(v) for e, v in sorted(state.quotas.items())}

    def effective(self, user: str, client_id: str) -> dict[str, Resolved]:
        """Each key's effective quota for a client, and where it comes from."""
        with self._log.read() as state:
            return resolve(state.quotas, user, client_id)

    def _audit(self, actor: str, change: QuotaChange) -> None:
        if self.audit is None:
            return
        self.audit.emit(
            management_event(
                self.cluster.name, actor, "quotas.alter", f"quota:{change.entity.describe()}"
            )
        )

    # -- the listener's admin APIs (engine.auth.ClientQuotaAdmin) -----------------------------

    def describe_client_quotas(
        self, components: Sequence[tuple[str, int, str | None]], strict: bool
    ) -> list[tuple[list[tuple[str, str | None]], dict[str, float]]]:
        """The entities the filter selects with their values (ValueError for a bad filter)."""
        try:
            chosen = [FilterComponent(kind, match, name) for kind, match, name in components]
            with self._log.read() as state:
                found = select(state.quotas, chosen, strict)
        except QuotaError as exc:
            raise ValueError(str(exc)) from None
        return [(entity.parts(), values) for entity, values in found]

    def alter_client_quotas(
        self,
        entries: Sequence[tuple[QuotaEntityParts, Sequence[tuple[str, float, bool]]]],
        validate_only: bool,
        principal: str,
    ) -> list[str | None]:
        """Each valid entry applied (all valid ones in one command); per entry None or why
        it was refused."""
        outcomes: list[str | None] = []
        valid: list[QuotaAlteration] = []
        for parts, ops in entries:
            try:
                alteration = _alteration(parts, ops)
                self.check([alteration])
            except QuotaError as exc:
                outcomes.append(str(exc))
                continue
            if alteration.entity in {a.entity for a in valid}:
                outcomes.append(f"{alteration.entity.describe()} is altered twice")
                continue
            outcomes.append(None)
            valid.append(alteration)
        if valid and not validate_only:
            self.alter(valid, actor=principal)
        return outcomes

    # -- measuring (engine.auth.ClientQuotas) -------------------------------------------------

    def active(self) -> bool:
        """Whether any quota is set."""
        return bool(self._log.state.quotas)

    def _quota(self, principal: str, client_id: str, key: str) -> Resolved | None:
        with self._log.current() as state:
            if state.version != self._resolved_version:
                self._resolved.clear()
                self._resolved_version = state.version
            user = user_of(principal)
            found = self._resolved.get((user, client_id))
            if found is None:
                if len(self._resolved) > _MAX_RATES:
                    self._resolved.clear()
                found = self._resolved[(user, client_id)] = resolve(state.quotas, user, client_id)
        return found.get(key)

    def _rate(self, key: str, quota: Resolved, now_ms: float) -> WindowedRate:
        name = (key, *quota.tags)
        rate = self._rates.get(name)
        if rate is None:
            if len(self._rates) >= _MAX_RATES:
                self._forget_idle(now_ms)
            rate = self._rates[name] = WindowedRate(self.settings.samples, self.settings.window_ms)
        return rate

    def _forget_idle(self, now_ms: float) -> None:
        expiry = self.settings.samples * self.settings.window_ms
        for name in [n for n, r in self._rates.items() if now_ms - r.last_ms >= expiry]:
            del self._rates[name]

    def record(self, principal: str, client_id: str, key: str, amount: float, now_ms: float) -> int:
        """Record usage; the throttle time its quota asks for (request_percentage is bounded
        by one window, as in Kafka; the byte rates are not)."""
        quota = self._quota(principal, client_id, key)
        if quota is None:
            return 0
        bound = int(self.settings.window_ms) if key == REQUEST_PERCENTAGE else None
        with self._lock:
            rate = self._rate(key, quota, now_ms)
            return record_and_throttle(rate, amount, quota.value, now_ms, bound)

    def unrecord(
        self, principal: str, client_id: str, key: str, amount: float, now_ms: float
    ) -> None:
        """Take back usage recorded."""
        quota = self._quota(principal, client_id, key)
        if quota is None:
            return
        with self._lock:
            self._rate(key, quota, now_ms).record(-amount, now_ms)

    def window_limit(self, principal: str, client_id: str, key: str) -> float | None:
        """The quota's value over one window (a fetch never asks for more)."""
        quota = self._quota(principal, client_id, key)
        return None if quota is None else quota.value * self.settings.window_ms / 1000.0


def _alteration(parts: QuotaEntityParts, ops: Sequence[tuple[str, float, bool]]) -> QuotaAlteration:
    """An AlterClientQuotas entry as an alteration (QuotaError when it is not valid)."""
    entity = QuotaEntity.from_parts(parts)
    values: dict[str, float] = {}
    remove: list[str] = []
    for key, value, removing in ops:
        if key in values or key in remove:
            raise QuotaError(f"{key} is given twice for {entity.describe()}")
        if key not in QUOTA_KEYS:
            raise QuotaError(f"unknown quota key {key!r} (known: {', '.join(QUOTA_KEYS)})")
        if removing:
            remove.append(key)
        else:
            values[key] = value
    return QuotaAlteration.from_dict({"entity": entity.to_dict(), "set": values, "remove": remove})


__all__ = ["QUOTAS_TOPIC", "ClientQuotaService", "QuotaSettings"]
