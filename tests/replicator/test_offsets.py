"""Offset syncs and translation against the slow model in `reference.py`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.types import TopicPartition
from replicator.offsets import OffsetSync, SyncEmitter, SyncStore
from tests.replicator.reference import AllSyncs, true_position

TP = TopicPartition("t", 0)


def store_of(*syncs: OffsetSync) -> SyncStore:
    store = SyncStore()
    store.read_to_end()
    for sync in syncs:
        store.add(TP, sync)
    return store


def test_mm2_examples() -> None:
    store = store_of(OffsetSync(100, 200))
    assert store.translate(TP, 150) == 201
    assert store.translate(TP, 100) == 200
    assert store.translate(TP, 5) is None
    store.add(TP, OffsetSync(150, 251))
    assert store.translate(TP, 150) == 251


def test_no_translation_before_the_initial_read() -> None:
    store = SyncStore()
    store.add(TP, OffsetSync(1, 1))
    assert store.translate(TP, 5) is None
    store.read_to_end()
    assert store.translate(TP, 5) == 2


def test_rewind_replaces_every_slot() -> None:
    store = store_of(OffsetSync(100, 100), OffsetSync(200, 200), OffsetSync(10, 300))
    assert store.translate(TP, 150) == 301
    assert store.translate(TP, 5) is None


def test_emitter_rules() -> None:
    emitter = SyncEmitter(offset_lag_max=10)
    emitter.record(TP, 0, 0)  # first of this lifetime
    assert emitter.take() == [(TP, OffsetSync(0, 0))]
    for i in range(1, 10):
        emitter.record(TP, i, i)
    assert emitter.take() == []
    emitter.record(TP, 10, 11)  # downstream moved lag max past the last sync
    assert emitter.take() == [(TP, OffsetSync(10, 11))]
    emitter.record(TP, 12, 12)  # upstream gap
    assert emitter.take() == [(TP, OffsetSync(12, 12))]
    emitter.record(TP, 13, 13)
    assert emitter.take() == []
    assert emitter.take(flush=True) == [(TP, OffsetSync(13, 13))]


# A copy run: per source record, whether it is copied (gaps upstream: compaction, filtered
# records) and how many foreign records land on the target before it.
steps = st.lists(
    st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 2)), min_size=1, max_size=400
)


@settings(max_examples=150, deadline=None)
@given(steps=steps, lag_max=st.integers(1, 40), flush_every=st.integers(1, 200))
def test_translation_never_overshoots_and_matches_the_model(
    steps: list[tuple[int, bool, int]], lag_max: int, flush_every: int
) -> None:
    emitter = SyncEmitter(offset_lag_max=lag_max)
    store = SyncStore()
    store.read_to_end()
    model = AllSyncs()
    copies: list[tuple[int, int]] = []
    up = down = -1
    for i, (gap, copied, foreign) in enumerate(steps):
        up += 1 + gap
        down += foreign
        if copied:
            down += 1
            copies.append((up, down))
            emitter.record(TP, up, down)
        for _, sync in emitter.take(flush=(i + 1) % flush_every == 0):
            store.add(TP, sync)
            model.add(sync)
    end = down + 1
    # Bounded re-delivery: a group anywhere after the newest sync re-reads at most
    # lag_max copied records (the emitter's staleness rule).
    latest = store.latest(TP)
    if latest is not None:
        for g in range(latest.upstream, up + 2):
            got = store.translate(TP, g)
            assert got is not None
            true = true_position(copies, g, end)
            reread = [d for _, d in copies if got <= d < true]
            assert len(reread) <= lag_max
    for _, sync in emitter.take(flush=True):
        store.add(TP, sync)
        model.add(sync)
    latest = store.latest(TP)
    for g in range(0, up + 2):
        got = store.translate(TP, g)
        slow = model.translate(g)
        if got is None:
            continue
        true = true_position(copies, g, end)
        assert got <= true, f"overshoot at {g}: {got} > {true}"
        assert slow is not None and got <= slow
        if latest is not None and g >= latest.upstream:
            assert got == slow
    # Fully synced with the last record copied: a group at the end needs no re-delivery.
    if copies and copies[-1] == (up, down):
        assert store.translate(TP, up + 1) == end


@settings(max_examples=100, deadline=None)
@given(ups=st.lists(st.integers(0, 1 << 20), min_size=1, max_size=200))
def test_store_never_beats_or_overshoots_the_model(ups: list[int]) -> None:
    store = SyncStore()
    store.read_to_end()
    model = AllSyncs()
    for i, u in enumerate(ups):
        sync = OffsetSync(u, i)
        store.add(TP, sync)
        model.add(sync)
    for g in {*ups, *(u + 1 for u in ups), 0}:
        got, slow = store.translate(TP, g), model.translate(g)
        if slow is None:
            assert got is None
        elif got is not None:
            assert got <= slow


@settings(max_examples=150, deadline=None)
@given(
    runs=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 400)), min_size=1, max_size=8
    ),
    lag_max=st.integers(1, 120),
)
def test_record_run_equals_recording_each_copy(
    runs: list[tuple[int, int, int]], lag_max: int
) -> None:
    fast, slow = SyncEmitter(offset_lag_max=lag_max), SyncEmitter(offset_lag_max=lag_max)
    up = down = -1
    for up_gap, down_gap, count in runs:
        up, down = up + 1 + up_gap, down + 1 + down_gap
        fast.record_run(TP, up, down, count)
        for i in range(count):
            slow.record(TP, up + i, down + i)
        up, down = up + count - 1, down + count - 1
        assert fast.take() == slow.take()
    assert fast.take(flush=True) == slow.take(flush=True)
