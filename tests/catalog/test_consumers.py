"""Who counts as a consumer of a deprecated stream, and when the stream is safe to delete."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import state as c
from catalog.consumers import (
    GroupObservation,
    activity_updates,
    consumers_of,
    deprecation_statuses,
)

DAY = 86400.0


def deprecated(*extra: dict[str, object]) -> c.CatalogState:
    state = c.initial_state()
    for command in (
        c.upsert_stream("old", fields={"owner": "team-a"}),
        c.upsert_stream("new"),
        c.deprecate_stream("old", since="2026-01-01", replacement="new"),
        *extra,
    ):
        c.apply(state, command)
    return state


def test_a_live_group_counts_and_shows_its_progress_on_the_replacement() -> None:
    state = deprecated()
    seen = {
        "billing": GroupObservation(
            "billing", {"old": 10, "new": 4}, {"old": 0, "new": 6}, frozenset({"old"})
        )
    }
    (view,) = consumers_of(state, "old", seen, now=100.0)
    assert (view.group, view.live, view.counts, view.replacement_lag) == ("billing", True, True, 6)
    (status,) = deprecation_statuses(state, seen, now=100.0)
    assert status.counting == ["billing"] and not status.safe_to_delete


def test_an_idle_group_stops_counting_after_the_horizon() -> None:
    state = deprecated(c.observe_consumer("old", "billing", 0.0))
    seen = {"billing": GroupObservation("billing", {"old": 10})}
    assert consumers_of(state, "old", seen, now=6 * DAY)[0].counts
    assert not consumers_of(state, "old", seen, now=8 * DAY)[0].counts
    assert consumers_of(state, "old", seen, now=8 * DAY, horizon_seconds=9 * DAY)[0].counts


def test_a_group_never_recorded_counts_until_its_activity_is_known() -> None:
    seen = {"billing": GroupObservation("billing", {"old": 10})}
    assert consumers_of(deprecated(), "old", seen, now=1e9)[0].counts


def test_a_declared_consumer_counts_until_its_declaration_goes() -> None:
    state = deprecated(c.upsert_service("reports", {"inputs": ["old"]}))
    (view,) = consumers_of(state, "old", {}, now=0.0)
    assert (view.group, view.declared, view.observed, view.counts) == ("reports", True, False, True)
    c.apply(state, c.upsert_service("reports", {"inputs": []}))
    assert deprecation_statuses(state, {}, now=0.0)[0].safe_to_delete


def test_activity_is_recorded_when_new_or_moving_and_forgotten_when_gone() -> None:
    state = deprecated(
        c.observe_consumer("old", "gone", 0.0), c.observe_consumer("old", "idle", 0.0)
    )
    before = {
        "idle": GroupObservation("idle", {"old": 5}),
        "mover": GroupObservation("mover", {"old": 5}),
    }
    now = {
        "idle": GroupObservation("idle", {"old": 5}),
        "mover": GroupObservation("mover", {"old": 9}),
    }
    record, forget = activity_updates(state, now, before, now=1000.0, refresh_seconds=60.0)
    assert record == [("old", "mover")]
    assert forget == [("old", "gone")]


observations = st.dictionaries(
    st.sampled_from(["g1", "g2", "g3"]),
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(
    observations,
    st.dictionaries(st.sampled_from(["g1", "g2", "g3"]), st.floats(0, 20 * DAY), max_size=3),
    st.lists(st.sampled_from(["g1", "g2", "g3"]), max_size=2),
    st.floats(0, 20 * DAY),
)
def test_safe_to_delete_matches_the_rule_as_written(
    raw: dict[str, tuple[bool, bool, bool]],
    remembered: dict[str, float],
    declared: list[str],
    now: float,
) -> None:
    """Safe exactly when no declared group, no live group and no group with offsets seen within
    the horizon (or never recorded) remains."""
    state = deprecated(*(c.observe_consumer("old", g, at) for g, at in remembered.items()))
    for group in declared:
        c.apply(state, c.upsert_service(group, {"inputs": ["old"]}))
    seen = {}
    for group, (committed, live, on_new) in raw.items():
        offsets = {"old": 1} if committed else {}
        if on_new:
            offsets["new"] = 1
        seen[group] = GroupObservation(group, offsets, {}, frozenset({"old"} if live else ()))
    horizon = 7 * DAY
    keeps = set(declared)
    for group, obs in seen.items():
        if "old" in obs.live_topics:
            keeps.add(group)
        elif "old" in obs.committed:
            at = state.consumers.get("old", {}).get(group)
            if at is None or now - at <= horizon:
                keeps.add(group)
    (status,) = deprecation_statuses(state, seen, now, horizon)
    assert set(status.counting) == keeps
    assert status.safe_to_delete == (not keeps)
