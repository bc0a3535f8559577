"""The state log on both backends: instances appending concurrently end with identical state."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from engine.cluster import Cluster
from engine.statelog import Fold, SnapshotCodec, StateLog
from engine.types import OffsetSpec, Record
from tests.contract.conftest import Names


def _register(state: dict[str, int], command: Mapping[str, Any], commit: bool) -> int:
    """Give each new name the next id; a known name keeps its id (ids follow log order)."""
    name = str(command["name"])
    if name in state:
        return state[name]
    if commit:
        state[name] = len(state) + 1
        return state[name]
    return len(state) + 1


def _lost(state: dict[str, int], first: int, count: int) -> None:
    state[f"lost {first}+{count}"] = 0


#: Records each gap it is told of as a name: on no backend does a gap appear here.
FOLD: Fold[dict[str, int]] = Fold(dict, {"register": _register}, skipped=_lost)


def test_two_instances_appending_concurrently_agree(
    cluster: Cluster, open_cluster: Callable[[], Cluster], names: Names
) -> None:
    topic = "_" + names.topic("state")
    logs = [StateLog(handle, topic, FOLD) for handle in (cluster, open_cluster())]
    for log in logs:
        log.start()
    outcomes: list[dict[str, int]] = [{}, {}]

    def writer(index: int) -> None:
        for i in range(15):
            name = f"w{index}-{i}" if i % 3 else "shared"
            outcomes[index][name] = logs[index].append({"op": "register", "name": name})

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for log in logs:
        log.sync()

    with logs[0].lock, logs[1].lock:
        first, second = dict(logs[0].state), dict(logs[1].state)
    assert first == second
    assert sorted(first.values()) == list(range(1, len(first) + 1))
    assert len(first) == 1 + 2 * 10
    # Each writer got the id the shared log assigned, including for the contended name.
    for outcome in outcomes:
        assert all(first[name] == ident for name, ident in outcome.items())

    late = StateLog(open_cluster(), topic, FOLD)
    late.start()
    assert late.state == first
    for log in [*logs, late]:
        log.close()


def test_a_batch_written_into_the_log_is_applied(
    cluster: Cluster, open_cluster: Callable[[], Cluster], names: Names
) -> None:
    """A multi-record produce on Kafka ends in a transaction marker that holds an offset but
    no record; catching up must step over it rather than wait for a record there, and not
    take it for a lost command."""
    topic = "_" + names.topic("state")
    log = StateLog(cluster, topic, FOLD)
    log.start()
    assert log.append({"op": "register", "name": "a"}) == 1
    batch = [
        Record(json.dumps({"op": "register", "name": n}).encode(), partition=0) for n in ("b", "c")
    ]
    cluster.produce(topic, batch)
    log.sync()
    with log.lock:
        assert log.state == {"a": 1, "b": 2, "c": 3}
    assert log.applied_offset == cluster.list_offsets(topic, OffsetSpec.LATEST)[0]
    assert log.append({"op": "register", "name": "d"}) == 4
    cluster.produce(topic, batch)  # the log now ends in a marker (on Kafka)

    late = StateLog(open_cluster(), topic, FOLD)
    late.start()
    assert late.state == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert late.append({"op": "register", "name": "e"}) == 5
    log.sync()
    with log.lock:
        assert log.state == late.state
    for each in (log, late):
        each.close()


def _dump(state: dict[str, int]) -> list[list[Any]]:
    return [[name, ident] for name, ident in state.items()]


def _load(pieces: Any) -> dict[str, int]:
    return {str(name): int(ident) for name, ident in pieces}


SNAPSHOTTED: Fold[dict[str, int]] = Fold(
    dict, {"register": _register}, snapshot=SnapshotCodec("names-1", _dump, _load)
)


def test_a_snapshot_written_by_one_instance_starts_another(
    cluster: Cluster, open_cluster: Callable[[], Cluster], names: Names
) -> None:
    topic = "_" + names.topic("state")
    log = StateLog(cluster, topic, SNAPSHOTTED, snapshot_every=5).start()
    for i in range(6):
        log.write({"op": "register", "name": f"n{i}"})
    log.close()
    assert log.snapshot_offset == log.applied_offset
    late = StateLog(open_cluster(), topic, SNAPSHOTTED).start()
    assert late.snapshot_offset == log.snapshot_offset
    assert late.state == log.state
    assert late.write({"op": "register", "name": "next"}) == 7
    late.close()
