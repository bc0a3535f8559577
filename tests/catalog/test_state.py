"""The catalog's fold: rules per command and properties over random command sequences."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import state as c
from catalog.model import CatalogError, ConflictError, Lifecycle, NotFoundError, Tag


def fold(*commands: dict[str, Any]) -> c.CatalogState:
    state = c.initial_state()
    for command in commands:
        c.apply(state, command)
    return state


def test_upsert_sets_only_the_given_fields_and_merges_tags() -> None:
    state = fold(
        c.upsert_stream(
            "orders", fields={"owner": "checkout", "description": "d"}, add_tags=["pii"]
        ),
        c.upsert_stream("orders", fields={"namespace": "sales"}, add_tags=["tier=gold", "PII"]),
    )
    stream = state.streams["orders"]
    assert (stream.owner, stream.description, stream.namespace) == ("checkout", "d", "sales")
    assert stream.tags == (Tag("pii"), Tag("tier", "gold"))
    c.apply(state, c.upsert_stream("orders", add_tags=["tier=silver"], remove_tags=["pii"]))
    assert state.streams["orders"].tags == (Tag("tier", "silver"),)


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (c.upsert_stream("bad topic"), "not a valid topic name"),
        (c.upsert_stream("t", fields={"owner": "no spaces"}), "owner"),
        (c.upsert_stream("t", fields={"colour": "red"}), "unknown stream field 'colour'"),
        (c.upsert_stream("t", add_tags=["=x"]), "tag '=x'"),
        (c.upsert_stream("t", add_tags=["a="]), "value after '='"),
        ({"op": "stream.explode"}, "unknown command 'stream.explode'"),
        ({"op": "stream.upsert"}, "malformed command 'stream.upsert'"),
        (c.set_settings({"webhook_url": "ftp://x"}), "http:// or https://"),
        (c.set_settings({"colour": 1}), "unknown catalog setting"),
    ],
)
def test_bad_commands_name_the_problem(command: dict[str, Any], words: str) -> None:
    with pytest.raises(CatalogError, match=words):
        c.validate(c.initial_state(), command)


def test_deprecation_needs_a_known_stream_and_a_sane_sunset() -> None:
    state = fold(c.upsert_stream("old"))
    with pytest.raises(NotFoundError, match="'missing'"):
        c.validate(state, c.deprecate_stream("missing", since="2026-01-01"))
    with pytest.raises(CatalogError, match="before the deprecation date"):
        c.validate(state, c.deprecate_stream("old", since="2026-05-01", sunset="2026-01-01"))
    with pytest.raises(CatalogError, match="own replacement"):
        c.validate(state, c.deprecate_stream("old", since="2026-05-01", replacement="old"))


def test_a_new_deprecation_after_undeprecating_gets_a_new_serial() -> None:
    state = fold(c.upsert_stream("old"), c.deprecate_stream("old", since="2026-01-01"))
    first = state.streams["old"].deprecation
    c.apply(state, c.deprecate_stream("old", since="2026-01-01", reason="changed"))
    assert state.streams["old"].deprecation.serial == first.serial  # type: ignore[union-attr]
    c.apply(state, c.undeprecate_stream("old"))
    assert state.streams["old"].lifecycle is Lifecycle.ACTIVE
    c.apply(state, c.deprecate_stream("old", since="2026-02-01"))
    assert state.streams["old"].deprecation.serial == first.serial + 1  # type: ignore[union-attr]


def test_a_retired_stream_keeps_what_replaced_it() -> None:
    state = fold(
        c.upsert_stream("old"),
        c.deprecate_stream("old", since="2026-01-01", replacement="new"),
        c.retire_stream("old", 10.0),
    )
    assert state.streams["old"].lifecycle is Lifecycle.RETIRED
    assert state.streams["old"].deprecation.replacement == "new"  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="retired"):
        c.validate(state, c.deprecate_stream("old", since="2026-01-01"))


def test_only_the_first_claim_of_a_notification_wins() -> None:
    state = fold(c.upsert_stream("old"))
    claim = c.claim_notification("no_consumers_left", "old", 1)
    assert c.apply(state, claim) is True
    assert c.apply(state, claim) is False
    assert c.apply(state, c.claim_notification("no_consumers_left", "old", 2)) is True


def test_a_consumer_group_belongs_to_one_service() -> None:
    state = fold(c.upsert_service("billing", {"groups": ["billing-main"]}))
    with pytest.raises(ConflictError, match="already belongs to service 'billing'"):
        c.validate(state, c.upsert_service("audit", {"groups": ["billing-main"]}))


def test_a_producer_other_than_the_owner_is_a_violation_once() -> None:
    state = fold(
        c.upsert_service("checkout", {"principals": ["User:checkout-app"]}),
        c.upsert_stream("orders", fields={"owner": "checkout"}),
    )
    assert c.apply(state, c.observe_producer("orders", "User:checkout-app", "x", 1.0)) is False
    assert c.apply(state, c.observe_producer("orders", "User:mallory", "rogue", 2.0)) is True
    assert c.apply(state, c.observe_producer("orders", "User:mallory", "rogue", 3.0)) is False
    assert state.producers["orders"][("User:mallory", "rogue")].last_seen == 3.0


# -- properties -----------------------------------------------------------------------------------

topics = st.sampled_from(["orders", "payments", "users", "bad topic"])
services = st.sampled_from(["checkout", "billing", "crm", "no spaces"])
tags = st.lists(
    st.sampled_from(["pii", "financial", "tier=gold", "tier=silver", "=bad"]), max_size=3
)
dates = st.sampled_from(["2026-01-01", "2026-06-01", "not-a-date", None])
commands = st.one_of(
    st.builds(
        lambda t, o, a, r: c.upsert_stream(t, fields={"owner": o}, add_tags=a, remove_tags=r),
        topics,
        services,
        tags,
        st.lists(st.sampled_from(["pii", "tier"]), max_size=2),
    ),
    st.builds(
        lambda t, d, s: c.deprecate_stream(t, since=d or "2026-01-01", sunset=s),
        topics,
        dates,
        dates,
    ),
    st.builds(c.undeprecate_stream, topics),
    st.builds(lambda t: c.retire_stream(t, 5.0), topics),
    st.builds(c.delete_stream, topics),
    st.builds(
        lambda n, i: c.upsert_service(n, {"inputs": i}), services, st.lists(topics, max_size=2)
    ),
    st.builds(c.delete_service, services),
    st.builds(lambda t, g: c.observe_consumer(t, g, 1.0), topics, services),
    st.builds(lambda t, g: c.forget_consumer(t, g), topics, services),
    st.builds(lambda t: c.claim_notification("no_consumers_left", t, 1), topics),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(commands, max_size=25))
def test_validate_predicts_apply_and_refused_commands_change_nothing(
    sequence: list[dict[str, Any]],
) -> None:
    state = c.initial_state()
    for command in sequence:
        before = copy.deepcopy(state)
        try:
            predicted = c.validate(state, command)
        except CatalogError as refused:
            assert state == before, "validate changed the state"
            with pytest.raises(type(refused)):
                c.apply(state, command)
            assert state == before, "a refused command changed the state"
            continue
        assert state == before, "validate changed the state"
        assert c.apply(state, command) == predicted


@settings(max_examples=100, deadline=None)
@given(st.lists(commands, max_size=25))
def test_every_instance_folding_the_same_log_holds_the_same_catalog(
    sequence: list[dict[str, Any]],
) -> None:
    def replay() -> c.CatalogState:
        state = c.initial_state()
        for command in sequence:
            with contextlib.suppress(CatalogError):
                c.apply(state, copy.deepcopy(command))
        return state

    assert replay() == replay()


@settings(max_examples=100, deadline=None)
@given(st.lists(commands, max_size=25))
def test_every_stored_value_passes_the_rules(sequence: list[dict[str, Any]]) -> None:
    state = c.initial_state()
    for command in sequence:
        with contextlib.suppress(CatalogError):
            c.apply(state, command)
    for topic, stream in state.streams.items():
        assert topic == stream.topic and " " not in topic
        if stream.lifecycle is Lifecycle.DEPRECATED:
            assert stream.deprecation is not None
        if stream.lifecycle is Lifecycle.ACTIVE:
            assert stream.deprecation is None
        assert len({tag.name for tag in stream.tags}) == len(stream.tags)
        assert list(stream.tags) == sorted(stream.tags)


@settings(max_examples=100, deadline=None)
@given(st.lists(commands, max_size=25))
def test_a_snapshot_rebuilds_the_same_state(sequence: list[dict[str, Any]]) -> None:
    state = c.initial_state()
    for command in sequence:
        with contextlib.suppress(CatalogError):
            c.apply(state, command)
    c.apply(state, c.observe_producer("orders", "User:x", "client", 4.0))
    c.apply(state, c.set_settings({"consumer_horizon_seconds": 60}))
    pieces = json.loads(json.dumps(list(c.dump_state(state))))
    assert c.load_state(iter(pieces)) == state
