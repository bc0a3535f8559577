"""The state log over the embedded engine: outcomes, errors, replay, threads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from engine.embedded import EmbeddedCluster
from engine.statelog import CommandError, Fold, StateLog, StateLogError
from engine.types import Record


class TakenError(Exception):
    """A name is registered already."""


def register(state: dict[str, Any], command: Mapping[str, Any], commit: bool) -> int:
    name = command["name"]
    if name in state:
        raise TakenError(name)
    if commit:
        state[name] = len(state) + 1
    return len(state) + (0 if commit else 1)


FOLD: Fold[dict[str, Any]] = Fold(dict, {"register": register})


def make(cluster: EmbeddedCluster) -> StateLog[dict[str, Any]]:
    log: StateLog[dict[str, Any]] = StateLog(cluster, "_registry", FOLD)
    log.start()
    return log


def test_start_creates_the_topic_as_specified(cluster: EmbeddedCluster) -> None:
    make(cluster)
    description = cluster.describe_topic("_registry")
    assert len(description.partitions) == 1
    assert description.config["retention.ms"] == "-1"
    assert description.config["cleanup.policy"] == "delete"
    make(cluster)  # a second start finds the topic


def test_append_returns_the_outcome_and_reraises_errors(cluster: EmbeddedCluster) -> None:
    log = make(cluster)
    assert log.append({"op": "register", "name": "a"}) == 1
    assert log.append({"op": "register", "name": "b"}) == 2
    with pytest.raises(TakenError):
        log.append({"op": "register", "name": "a"})
    with pytest.raises(CommandError, match="unknown command 'drop'"):
        log.append({"op": "drop"})
    assert log.state == {"a": 1, "b": 2}
    assert log.applied_offset == 4


def test_replay_rebuilds_the_same_state(cluster: EmbeddedCluster) -> None:
    first = make(cluster)
    for name in "abcab":
        with contextlib.suppress(TakenError):
            first.append({"op": "register", "name": name})
    second = make(cluster)
    assert second.state == first.state == {"a": 1, "b": 2, "c": 3}
    assert second.applied_offset == first.applied_offset == 5


def test_sync_reads_other_instances_writes(cluster: EmbeddedCluster) -> None:
    one, two = make(cluster), make(cluster)
    one.append({"op": "register", "name": "x"})
    assert two.state == {}
    two.sync()
    assert two.state == {"x": 1}
    # The other instance's failed command does not raise here; it is logged.
    with pytest.raises(TakenError):
        one.append({"op": "register", "name": "x"})
    two.sync()
    assert two.applied_offset == 2


def test_malformed_records_are_skipped(cluster: EmbeddedCluster) -> None:
    log = make(cluster)
    cluster.produce("_registry", [Record(b"not json"), Record(b"[1]"), Record(None)])
    assert log.append({"op": "register", "name": "a"}) == 1
    assert log.applied_offset == 4


def test_concurrent_threads_get_their_own_outcomes(cluster: EmbeddedCluster) -> None:
    log = make(cluster)
    results: dict[str, Any] = {}

    def worker(prefix: str) -> None:
        for i in range(25):
            name = f"shared-{i}" if i % 2 else f"{prefix}-{i}"
            try:
                results[f"{prefix}/{name}"] = log.append({"op": "register", "name": name})
            except TakenError:
                results[f"{prefix}/{name}"] = "taken"

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with log.lock:
        state = dict(log.state)
    assert sorted(state.values()) == list(range(1, len(state) + 1))
    for key, outcome in results.items():
        name = key.split("/", 1)[1]
        if outcome != "taken":
            assert state[name] == outcome
    winners = [
        k for k, v in results.items() if k.split("/", 1)[1].startswith("shared") and v != "taken"
    ]
    assert len(winners) == 12  # each shared name registered exactly once


def test_append_before_start_is_refused(cluster: EmbeddedCluster) -> None:
    log: StateLog[dict[str, Any]] = StateLog(cluster, "_x", FOLD)
    with pytest.raises(StateLogError, match="not started"):
        log.append({"op": "register", "name": "a"})


def test_commands_must_be_plain_json(cluster: EmbeddedCluster) -> None:
    log = make(cluster)
    with pytest.raises(ValueError, match="JSON"):
        log.append({"op": "register", "name": float("nan")})
    with pytest.raises(TypeError):
        log.append({"op": "register", "name": object()})
    assert log.applied_offset == 0  # nothing was written
