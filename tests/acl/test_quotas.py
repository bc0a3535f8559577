"""Client quota entities, Kafka's precedence (differential against tests/acl/quota_reference),
filters, and the fold over `_quotas`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acl.quota_state import FOLD, QuotaAlteration, alter, dump_state, initial_state, load_state
from acl.quotas import (
    CONSUMER_BYTE_RATE,
    MATCH_ANY,
    MATCH_DEFAULT,
    MATCH_EXACT,
    PRODUCER_BYTE_RATE,
    QUOTA_KEYS,
    REQUEST_PERCENTAGE,
    FilterComponent,
    QuotaEntity,
    QuotaError,
    check_value,
    parse_value,
    precedence,
    resolve,
    select,
    user_of,
)
from tests.acl import quota_reference

NAMES = ["alice", "bob", "app-1"]
#: Kafka's metric tags per level (1-8): whose usage is measured together
TAGS_BY_LEVEL = ["both", "both", "user", "both", "both", "user", "client", "client"]


def entity(user: object = "-", client: object = "-") -> QuotaEntity:
    """ "-" leaves a part out, None is the default."""
    parts = []
    if user != "-":
        parts.append(("user", user))
    if client != "-":
        parts.append(("client-id", client))
    return QuotaEntity.from_parts(parts)  # type: ignore[arg-type]


parts = st.sampled_from(["-", None, *NAMES])
entities = st.tuples(parts, parts).filter(lambda p: p != ("-", "-")).map(lambda p: entity(*p))
values = st.dictionaries(
    st.sampled_from(list(QUOTA_KEYS)), st.integers(1, 10_000).map(float), min_size=1
)
quota_maps = st.dictionaries(entities, values, max_size=12)


@settings(max_examples=400, deadline=None)
@given(quota_maps, st.sampled_from(NAMES), st.sampled_from(NAMES))
def test_resolution_matches_the_reference_model(quotas, user, client_id) -> None:
    found = resolve(quotas, user, client_id)
    expected = quota_reference.effective(quotas, user, client_id)
    assert {k: (r.value, r.entity) for k, r in found.items()} == expected
    levels = precedence(user, client_id)
    for resolved in found.values():
        kind = TAGS_BY_LEVEL[levels.index(resolved.entity)]
        want = {"both": (user, client_id), "user": (user, ""), "client": ("", client_id)}[kind]
        assert resolved.tags == want


def test_the_eight_levels_in_kafkas_order() -> None:
    assert precedence("u", "c") == (
        entity("u", "c"),
        entity("u", None),
        entity("u"),
        entity(None, "c"),
        entity(None, None),
        entity(None),
        entity("-", "c"),
        entity("-", None),
    )


def test_each_key_comes_from_its_own_most_specific_entity() -> None:
    quotas = {
        entity("alice"): {PRODUCER_BYTE_RATE: 100.0},
        entity(None, None): {PRODUCER_BYTE_RATE: 5.0, CONSUMER_BYTE_RATE: 7.0},
        entity("-", "app"): {REQUEST_PERCENTAGE: 50.0, CONSUMER_BYTE_RATE: 9.0},
    }
    found = resolve(quotas, "alice", "app")
    assert found[PRODUCER_BYTE_RATE].entity == entity("alice")
    assert found[CONSUMER_BYTE_RATE].entity == entity(None, None)
    assert found[REQUEST_PERCENTAGE].entity == entity("-", "app")
    assert resolve(quotas, "bob", "other").keys() == {PRODUCER_BYTE_RATE, CONSUMER_BYTE_RATE}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (PRODUCER_BYTE_RATE, -1, "must be positive"),
        (PRODUCER_BYTE_RATE, 0, "must be positive"),
        (CONSUMER_BYTE_RATE, 1.5, "whole number"),
        (REQUEST_PERCENTAGE, float("nan"), "finite"),
        ("bytes_per_fortnight", 1, "unknown quota key 'bytes_per_fortnight'"),
        (PRODUCER_BYTE_RATE, "10", "must be a number"),
        (PRODUCER_BYTE_RATE, True, "must be a number"),
    ],
)
def test_bad_values_are_refused_naming_the_problem(key, value, message) -> None:
    with pytest.raises(QuotaError, match=message):
        check_value(key, value)


def test_values_parse_from_text() -> None:
    assert parse_value(REQUEST_PERCENTAGE, "12.5") == 12.5
    with pytest.raises(QuotaError, match="must be a number"):
        parse_value(PRODUCER_BYTE_RATE, "fast")


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "names a user, a client id or both"),
        ([("ip", "1.2.3.4")], "unknown quota entity type 'ip'"),
        ([("user", "a"), ("user", "b")], "given twice"),
        ([("user", "")], "empty"),
        ([("client-id", "x" * 300)], "longer than"),
        ([("user", "a\nb")], "control characters"),
    ],
)
def test_bad_entities_are_refused(parts, message) -> None:
    with pytest.raises(QuotaError, match=message):
        QuotaEntity.from_parts(parts)


def test_entities_describe_like_kafka_configs() -> None:
    assert entity("alice", None).describe() == "user=alice,client-id=<default>"
    assert entity("-", "app").describe() == "client-id=app"
    assert QuotaEntity.from_dict(entity(None, "c").to_dict()) == entity(None, "c")


def test_principals_are_known_by_their_name() -> None:
    assert user_of("User:alice") == "alice"
    assert user_of("User:ANONYMOUS") == "ANONYMOUS"


QUOTAS = {
    entity("alice", "app"): {PRODUCER_BYTE_RATE: 1.0},
    entity("alice"): {PRODUCER_BYTE_RATE: 2.0},
    entity(None): {PRODUCER_BYTE_RATE: 3.0},
    entity("-", "app"): {PRODUCER_BYTE_RATE: 4.0},
    entity(None, None): {PRODUCER_BYTE_RATE: 5.0},
}


@pytest.mark.parametrize(
    ("components", "strict", "expected"),
    [
        ([], False, list(QUOTAS)),
        (
            [FilterComponent("user", MATCH_EXACT, "alice")],
            False,
            [entity("alice"), entity("alice", "app")],
        ),
        ([FilterComponent("user", MATCH_EXACT, "alice")], True, [entity("alice")]),
        ([FilterComponent("user", MATCH_DEFAULT)], True, [entity(None)]),
        (
            [FilterComponent("user", MATCH_ANY), FilterComponent("client-id", MATCH_ANY)],
            True,
            [entity("alice", "app"), entity(None, None)],
        ),
        ([FilterComponent("client-id", MATCH_EXACT, "app")], True, [entity("-", "app")]),
    ],
)
def test_describe_filters_select_as_kafka_does(components, strict, expected) -> None:
    assert sorted(e for e, _ in select(QUOTAS, components, strict)) == sorted(expected)


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([FilterComponent("ip", MATCH_ANY)], "unknown quota entity type"),
        ([FilterComponent("user", MATCH_ANY)] * 2, "filtered twice"),
        ([FilterComponent("user", 7)], "unknown match type"),
        ([FilterComponent("user", MATCH_EXACT)], "needs a name"),
    ],
)
def test_bad_filters_are_refused(components, message) -> None:
    with pytest.raises(QuotaError, match=message):
        select(QUOTAS, components, False)


# -- the fold -------------------------------------------------------------------------------


def alteration(e: QuotaEntity, set_: dict | None = None, remove: tuple = ()) -> QuotaAlteration:
    return QuotaAlteration(e, set_ or {}, remove)


def test_the_fold_sets_replaces_and_removes_values() -> None:
    state = initial_state()
    alice = entity("alice")
    changes = FOLD.apply(state, alter([alteration(alice, {PRODUCER_BYTE_RATE: 10})]))
    assert [(c.entity, c.before, c.after) for c in changes] == [
        (alice, {}, {PRODUCER_BYTE_RATE: 10.0})
    ]
    FOLD.apply(state, alter([alteration(alice, {CONSUMER_BYTE_RATE: 20})]))
    assert state.quotas[alice] == {PRODUCER_BYTE_RATE: 10.0, CONSUMER_BYTE_RATE: 20.0}
    FOLD.apply(state, alter([alteration(alice, remove=(PRODUCER_BYTE_RATE, CONSUMER_BYTE_RATE))]))
    assert alice not in state.quotas
    version = state.version
    assert FOLD.apply(state, alter([alteration(alice, remove=(PRODUCER_BYTE_RATE,))])) == []
    assert state.version == version


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"entity": {"user": "a"}, "set": {PRODUCER_BYTE_RATE: -5}, "remove": []},
            "must be positive",
        ),
        ({"entity": {"user": "a"}, "set": {"speed": 5}, "remove": []}, "unknown quota key"),
        ({"entity": {"user": "a"}, "set": {}, "remove": ["speed"]}, "unknown quota key"),
        ({"entity": {"ip": "a"}, "set": {}, "remove": []}, "unknown quota entity type"),
        (
            {
                "entity": {"user": "a"},
                "set": {PRODUCER_BYTE_RATE: 5},
                "remove": [PRODUCER_BYTE_RATE],
            },
            "both set and removed",
        ),
    ],
)
def test_a_bad_entry_refuses_the_whole_command_and_changes_nothing(entry, message) -> None:
    state = initial_state()
    good = {"entity": {"user": "b"}, "set": {PRODUCER_BYTE_RATE: 5}, "remove": []}
    cmd = {"op": "quotas.alter", "entries": [good, entry]}
    with pytest.raises(QuotaError, match=message):
        FOLD.validate(state, cmd)
    with pytest.raises(QuotaError, match=message):
        FOLD.apply(state, cmd)
    assert state.quotas == {}


def test_snapshots_rebuild_the_same_state() -> None:
    state = initial_state()
    FOLD.apply(state, alter([alteration(e, v) for e, v in QUOTAS.items()]))
    assert load_state(iter(dump_state(state))).quotas == state.quotas
