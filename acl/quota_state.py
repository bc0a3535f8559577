"""Client quotas' state and the fold that builds it from the `_quotas` log. Pure: no I/O.

The state maps each quota entity to its values. One command, `quotas.alter`, sets and
removes values on several entities at once; it is checked whole (a bad entity, key or value
refuses all of it) by the same handler that applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from acl.quotas import QUOTA_KEYS, QuotaEntity, QuotaError, check_value
from engine.statelog import Command, Fold, SnapshotCodec, Unchanged, command


@dataclass
class QuotaState:
    """Every entity's quota values; built only by the fold. `version` grows with each
    change, so readers can cache what they derive from it."""

    quotas: dict[QuotaEntity, dict[str, float]] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True, slots=True)
class QuotaAlteration:
    """What to do to one entity: values to set and keys to remove."""

    entity: QuotaEntity
    set: Mapping[str, float] = field(default_factory=dict)
    remove: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the command's entries)."""
        return {
            "entity": self.entity.to_dict(),
            "set": dict(self.set),
            "remove": list(self.remove),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuotaAlteration:
        """The inverse of `to_dict`, checked (QuotaError naming what is wrong)."""
        entity = QuotaEntity.from_dict(data["entity"])
        values = {str(k): check_value(str(k), v) for k, v in dict(data["set"]).items()}
        remove = tuple(str(k) for k in data["remove"])
        for key in remove:
            if key not in QUOTA_KEYS:
                raise QuotaError(f"unknown quota key {key!r} (known: {', '.join(QUOTA_KEYS)})")
            if key in values:
                raise QuotaError(f"{key} is both set and removed for {entity.describe()}")
        if len(set(remove)) != len(remove):
            raise QuotaError(f"a key is removed twice for {entity.describe()}")
        return cls(entity, values, remove)


@dataclass(frozen=True, slots=True)
class QuotaChange:
    """One entity's values before and after an alteration (for the audit log)."""

    entity: QuotaEntity
    before: dict[str, float]
    after: dict[str, float]


def initial_state() -> QuotaState:
    """The state of an empty log."""
    return QuotaState()


def alter(alterations: Iterable[QuotaAlteration]) -> Command:
    """Set and remove quota values on entities."""
    return command("quotas.alter", entries=[a.to_dict() for a in alterations])


def _alter(state: QuotaState, cmd: Mapping[str, Any], commit: bool) -> Any:
    alterations = [QuotaAlteration.from_dict(item) for item in cmd["entries"]]
    entities = [a.entity for a in alterations]
    if len(set(entities)) != len(entities):
        raise QuotaError("an entity is altered twice in one request")
    changes = []
    for alteration in alterations:
        before = dict(state.quotas.get(alteration.entity, {}))
        after = {k: v for k, v in before.items() if k not in alteration.remove}
        after.update(alteration.set)
        if after != before:
            changes.append(QuotaChange(alteration.entity, before, after))
    if not changes:
        return Unchanged([])
    if commit:
        for change in changes:
            if change.after:
                state.quotas[change.entity] = change.after
            else:
                state.quotas.pop(change.entity, None)
        state.version += 1
    return changes


_HANDLERS = {"quotas.alter": _alter}


def dump_state(state: QuotaState) -> Iterator[Any]:
    """The state as JSON pieces for a snapshot (see `load_state`)."""
    for entity, values in sorted(state.quotas.items()):
        yield {"entity": entity.to_dict(), "values": values}


def load_state(pieces: Iterator[Any]) -> QuotaState:
    """Rebuild the state from `dump_state`'s pieces."""
    state = QuotaState()
    for piece in pieces:
        entity = QuotaEntity.from_dict(piece["entity"])
        state.quotas[entity] = {str(k): check_value(str(k), v) for k, v in piece["values"].items()}
    return state


FOLD: Fold[QuotaState] = Fold(
    initial_state, _HANDLERS, snapshot=SnapshotCodec("quotas-1", dump_state, load_state)
)
