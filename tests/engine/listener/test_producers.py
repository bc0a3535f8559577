"""Idempotent-producer sequence rules (Kafka's ProducerAppendInfo), as pure functions."""

from __future__ import annotations

from engine.kafka_listener import errors
from engine.kafka_listener.producers import ProducerRegistry


def test_duplicates_answer_the_original_offset_and_gaps_are_out_of_order() -> None:
    reg = ProducerRegistry(first_id=1000)
    pid = reg.new_id()
    assert reg.check(pid, 0, "t", 0, 0, 4).error == errors.NONE
    reg.appended(pid, 0, "t", 0, 0, 4, offset=10)
    assert reg.check(pid, 0, "t", 0, 0, 4).duplicate_offset == 10
    assert reg.check(pid, 0, "t", 0, 6, 7).error == errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert reg.check(pid, 0, "t", 0, 5, 9).error == errors.NONE
    # Other partitions keep their own sequences.
    assert reg.check(pid, 0, "t", 1, 0, 0).error == errors.NONE


def test_only_the_last_five_batches_are_remembered() -> None:
    reg = ProducerRegistry(first_id=1)
    pid = reg.new_id()
    for i in range(6):
        reg.appended(pid, 0, "t", 0, i, i, offset=100 + i)
    assert reg.check(pid, 0, "t", 0, 5, 5).duplicate_offset == 105
    assert reg.check(pid, 0, "t", 0, 1, 1).duplicate_offset == 101
    assert reg.check(pid, 0, "t", 0, 0, 0).error == errors.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_epochs_fence_older_producers_and_restart_sequences() -> None:
    reg = ProducerRegistry(first_id=1)
    pid = reg.new_id()
    reg.appended(pid, 3, "t", 0, 0, 9, offset=0)
    assert reg.check(pid, 2, "t", 0, 10, 10).error == errors.INVALID_PRODUCER_EPOCH
    assert reg.check(pid, 4, "t", 0, 10, 10).error == errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert reg.check(pid, 4, "t", 0, 0, 0).error == errors.NONE


def test_an_unknown_producer_starts_anywhere_and_ids_are_unique() -> None:
    reg = ProducerRegistry()
    ids = {reg.new_id() for _ in range(100)}
    assert len(ids) == 100
    assert reg.check(min(ids), 0, "t", 0, 77, 80).error == errors.NONE
    assert reg.check(-1, -1, "t", 0, -1, -1).error == errors.NONE  # not idempotent


def test_state_the_registry_lacks_is_recalled_from_the_store() -> None:
    stored = {(7, "t", 0): [(2, 0, 4, 100), (3, 0, 9, 110), (3, 10, 14, 120)]}
    asked: list[tuple[int, str, int]] = []

    def recall(pid: int, topic: str, partition: int) -> list[tuple[int, int, int, int]]:
        asked.append((pid, topic, partition))
        return stored.get((pid, topic, partition), [])

    reg = ProducerRegistry(first_id=1, recall=recall)
    # A retried batch of the latest epoch is a duplicate; one of an older epoch is fenced.
    assert reg.check(7, 3, "t", 0, 10, 14).duplicate_offset == 120
    assert reg.check(7, 2, "t", 0, 0, 4).error == errors.INVALID_PRODUCER_EPOCH
    assert reg.check(7, 3, "t", 0, 16, 16).error == errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert reg.check(7, 3, "t", 0, 15, 15).error == errors.NONE
    # Recalled once, then held; a producer with nothing stored starts anywhere.
    assert asked == [(7, "t", 0)]
    assert reg.check(8, 0, "t", 0, 42, 42).error == errors.NONE
