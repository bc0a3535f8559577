"""A slow, obviously right model of Kafka's quota precedence, to check `acl.quotas` against.

Kafka's eight levels read as a ranking: an entity applies to a client when each part it has
is the client's own name or the default; among those that set a key, one naming the user
beats one with the default user, which beats one without a user part; within that, the same
for the client id."""

from __future__ import annotations

from collections.abc import Mapping

from acl.quotas import QuotaEntity


def _rank(present: bool, name: str | None, own: str) -> int | None:
    """0 for the client's own name, 1 for the default, 2 for an absent part, None when the
    part names someone else."""
    if not present:
        return 2
    if name is None:
        return 1
    return 0 if name == own else None


def effective(
    quotas: Mapping[QuotaEntity, Mapping[str, float]], user: str, client_id: str
) -> dict[str, tuple[float, QuotaEntity]]:
    """Each key's value and the entity it comes from, by scanning every entity."""
    best: dict[str, tuple[tuple[int, int], float, QuotaEntity]] = {}
    for entity, values in quotas.items():
        user_rank = _rank(entity.has_user, entity.user, user)
        client_rank = _rank(entity.has_client, entity.client_id, client_id)
        if user_rank is None or client_rank is None:
            continue
        rank = (user_rank, client_rank)
        for key, value in values.items():
            if key not in best or rank < best[key][0]:
                best[key] = (rank, value, entity)
    return {key: (value, entity) for key, (_, value, entity) in best.items()}
