"""Kafka client quotas: entities, validation and precedence. Pure: no I/O.

A quota entity names a user, a client id, or both; either part may be the default (`None` as
its name), which applies to every user or client id without a quota of its own. Quota keys
are `producer_byte_rate`, `consumer_byte_rate` (bytes per second) and `request_percentage`
(percent of one request thread). For a client (user U, client id C) each key is taken from
the first of Kafka's eight levels that sets it:

1. user U, client id C            5. default user, default client id
2. user U, default client id      6. default user
3. user U                         7. client id C
4. default user, client id C      8. default client id

The level also decides which clients share a rate measurement (Kafka's metric tags): levels
1, 2, 4 and 5 measure each (user, client id) pair, 3 and 6 each user, 7 and 8 each client id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.auth import CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE

#: the quota keys and whether each takes whole numbers only (byte rates do, as Kafka's LONG)
QUOTA_KEYS: dict[str, bool] = {
    PRODUCER_BYTE_RATE: True,
    CONSUMER_BYTE_RATE: True,
    REQUEST_PERCENTAGE: False,
}
USER = "user"
CLIENT_ID = "client-id"
ENTITY_TYPES = (USER, CLIENT_ID)
#: how entity names are shown where a default must be told from a name
DEFAULT_LABEL = "<default>"
MAX_NAME_LENGTH = 255
#: the largest rate accepted (Kafka's LONG ceiling would overflow every window computation)
MAX_VALUE = 2.0**53
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QuotaError(Exception):
    """A quota entity, key or value that is not valid; the message says what was wrong. (Not
    a ValueError: the state log reports those as malformed commands.)"""


@dataclass(frozen=True, slots=True)
class QuotaEntity:
    """Who a quota applies to: a user part and a client-id part, each absent (`has_user`
    False), the default (name None) or a name."""

    has_user: bool
    user: str | None
    has_client: bool
    client_id: str | None

    def sort_key(self) -> tuple[bool, bool, str, bool, bool, str]:
        """Orders entities: users before client ids, names before defaults, then by name."""
        return (
            not self.has_user,
            self.user is None,
            self.user or "",
            not self.has_client,
            self.client_id is None,
            self.client_id or "",
        )

    def __lt__(self, other: QuotaEntity) -> bool:
        return self.sort_key() < other.sort_key()

    def checked(self) -> QuotaEntity:
        """The entity itself, or QuotaError naming what is wrong with it."""
        if not (self.has_user or self.has_client):
            raise QuotaError("a quota entity names a user, a client id or both")
        for present, name, kind in (
            (self.has_user, self.user, USER),
            (self.has_client, self.client_id, CLIENT_ID),
        ):
            if not present:
                if name is not None:
                    raise QuotaError(f"an absent {kind} has no name")
                continue
            if name is None:
                continue
            if not name:
                raise QuotaError(f"the {kind} name is empty (use the default instead)")
            if len(name) > MAX_NAME_LENGTH:
                raise QuotaError(f"the {kind} name is longer than {MAX_NAME_LENGTH} characters")
            if _CONTROL.search(name):
                raise QuotaError(f"the {kind} name {name!r} holds control characters")
        return self

    def parts(self) -> list[tuple[str, str | None]]:
        """(entity type, name or None for the default) for each part present, user first:
        the shape of Kafka's entity maps."""
        out: list[tuple[str, str | None]] = []
        if self.has_user:
            out.append((USER, self.user))
        if self.has_client:
            out.append((CLIENT_ID, self.client_id))
        return out

    @classmethod
    def from_parts(cls, parts: Iterable[tuple[str, str | None]]) -> QuotaEntity:
        """The entity from (entity type, name) pairs (QuotaError for unknown or repeated
        types)."""
        found: dict[str, str | None] = {}
        for kind, name in parts:
            if kind not in ENTITY_TYPES:
                known = ", ".join(ENTITY_TYPES)
                raise QuotaError(f"unknown quota entity type {kind!r} (known: {known})")
            if kind in found:
                raise QuotaError(f"the entity type {kind!r} is given twice")
            found[kind] = name
        entity = cls(USER in found, found.get(USER), CLIENT_ID in found, found.get(CLIENT_ID))
        return entity.checked()

    def to_dict(self) -> dict[str, str | None]:
        """JSON form: the types present, each with its name or None for the default."""
        return dict(self.parts())

    @classmethod
    def from_dict(cls, data: Mapping[str, str | None]) -> QuotaEntity:
        """The inverse of `to_dict`."""
        if not isinstance(data, Mapping):
            raise QuotaError("a quota entity is an object of entity types to names")
        for name in data.values():
            if name is not None and not isinstance(name, str):
                raise QuotaError(f"an entity name is a string or null, not {name!r}")
        return cls.from_parts(data.items())

    def describe(self) -> str:
        """As kafka-configs shows it: `user=alice,client-id=<default>`."""
        return ",".join(f"{kind}={DEFAULT_LABEL if n is None else n}" for kind, n in self.parts())


def check_value(key: str, value: object) -> float:
    """The quota value for `key`, or QuotaError saying why it cannot be one."""
    if key not in QUOTA_KEYS:
        raise QuotaError(f"unknown quota key {key!r} (known: {', '.join(QUOTA_KEYS)})")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QuotaError(f"{key} must be a number, not {value!r}")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise QuotaError(f"{key} must be a finite number, not {value!r}")
    if number <= 0:
        raise QuotaError(f"{key} must be positive, not {value!r}")
    if number > MAX_VALUE:
        raise QuotaError(f"{key} must be at most {MAX_VALUE:.0f}")
    if QUOTA_KEYS[key] and not number.is_integer():
        raise QuotaError(f"{key} must be a whole number of bytes per second, not {value!r}")
    return number


def parse_value(key: str, text: str) -> float:
    """A quota value written as text (`1048576`, `50.5`), checked for `key`."""
    try:
        number = float(text)
    except ValueError:
        raise QuotaError(f"{key} must be a number, not {text!r}") from None
    try:
        return check_value(key, number)
    except QuotaError as exc:  # name the value as it was written
        raise QuotaError(str(exc).replace(repr(number), repr(text))) from None


def precedence(user: str, client_id: str) -> tuple[QuotaEntity, ...]:
    """Kafka's eight levels for a client, most specific first (see the module docstring)."""
    return (
        QuotaEntity(True, user, True, client_id),
        QuotaEntity(True, user, True, None),
        QuotaEntity(True, user, False, None),
        QuotaEntity(True, None, True, client_id),
        QuotaEntity(True, None, True, None),
        QuotaEntity(True, None, False, None),
        QuotaEntity(False, None, True, client_id),
        QuotaEntity(False, None, True, None),
    )


@dataclass(frozen=True, slots=True)
class Resolved:
    """One key's effective quota for a client: its value, the entity it came from and the
    clients that share its rate measurement (`tags`: (user or "", client id or ""))."""

    key: str
    value: float
    entity: QuotaEntity
    tags: tuple[str, str]


def sensor_tags(entity: QuotaEntity, user: str, client_id: str) -> tuple[str, str]:
    """Whose usage is measured together under a quota from `entity` (Kafka's metric tags):
    the client's own user and client id for the parts the entity has, "" for the others."""
    return (user if entity.has_user else "", client_id if entity.has_client else "")


def resolve(
    quotas: Mapping[QuotaEntity, Mapping[str, float]], user: str, client_id: str
) -> dict[str, Resolved]:
    """Each key's effective quota for the client (keys without one are left out)."""
    found: dict[str, Resolved] = {}
    for entity in precedence(user, client_id):
        values = quotas.get(entity)
        if not values:
            continue
        for key, value in values.items():
            if key not in found:
                found[key] = Resolved(key, value, entity, sensor_tags(entity, user, client_id))
        if len(found) == len(QUOTA_KEYS):
            break
    return found


def user_of(principal: str) -> str:
    """The user name quotas know a principal by (`User:alice` -> `alice`), as Kafka's
    principal name."""
    return principal.partition(":")[2] or principal


#: DescribeClientQuotas match types
MATCH_EXACT, MATCH_DEFAULT, MATCH_ANY = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FilterComponent:
    """One part of a DescribeClientQuotas filter: an entity type and how its name matches
    (`MATCH_EXACT` with `name`, `MATCH_DEFAULT`, or `MATCH_ANY` name including the default)."""

    entity_type: str
    match_type: int
    name: str | None = None

    def matches(self, entity: QuotaEntity) -> bool:
        """Whether the entity has this type with a matching name."""
        parts = dict(entity.parts())
        if self.entity_type not in parts:
            return False
        name = parts[self.entity_type]
        if self.match_type == MATCH_EXACT:
            return name is not None and name == self.name
        if self.match_type == MATCH_DEFAULT:
            return name is None
        return True


def check_filter(components: Iterable[FilterComponent]) -> list[FilterComponent]:
    """The filter's components, or QuotaError for unknown types, match types or repeats."""
    seen: set[str] = set()
    out = []
    for component in components:
        if component.entity_type not in ENTITY_TYPES:
            raise QuotaError(f"unknown quota entity type {component.entity_type!r}")
        if component.entity_type in seen:
            raise QuotaError(f"the entity type {component.entity_type!r} is filtered twice")
        if component.match_type not in (MATCH_EXACT, MATCH_DEFAULT, MATCH_ANY):
            raise QuotaError(f"unknown match type {component.match_type}")
        if component.match_type == MATCH_EXACT and component.name is None:
            raise QuotaError(f"an exact match on {component.entity_type!r} needs a name")
        seen.add(component.entity_type)
        out.append(component)
    return out


def select(
    quotas: Mapping[QuotaEntity, Mapping[str, float]],
    components: Iterable[FilterComponent],
    strict: bool,
) -> list[tuple[QuotaEntity, dict[str, float]]]:
    """The entities (and their values) DescribeClientQuotas answers for a filter: every
    component must match; `strict` also leaves out entities with types the filter lacks."""
    chosen = check_filter(components)
    types = {c.entity_type for c in chosen}
    return [
        (entity, dict(sorted(values.items())))
        for entity, values in sorted(quotas.items())
        if values
        and all(c.matches(entity) for c in chosen)
        and (not strict or {kind for kind, _ in entity.parts()} <= types)
    ]


__all__ = [
    "CLIENT_ID",
    "CONSUMER_BYTE_RATE",
    "PRODUCER_BYTE_RATE",
    "QUOTA_KEYS",
    "REQUEST_PERCENTAGE",
    "USER",
    "FilterComponent",
    "QuotaEntity",
    "QuotaError",
    "Resolved",
    "check_value",
    "precedence",
    "resolve",
    "select",
    "user_of",
]
