"""The state log on both backends: instances appending concurrently end with identical state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.cluster import Cluster
from engine.statelog import StateLog
from tests.contract.conftest import Names


def _register(state: dict[str, int], command: dict[str, Any]) -> int:
    """Give each new name the next id; a known name keeps its id (ids follow log order)."""
    name = str(command["name"])
    if name not in state:
        state[name] = len(state) + 1
    return state[name]


def test_two_instances_appending_concurrently_agree(
    cluster: Cluster, open_cluster: Callable[[], Cluster], names: Names
) -> None:
    topic = "_" + names.topic("state")
    logs = [StateLog(handle, topic, dict, _register) for handle in (cluster, open_cluster())]
    for log in logs:
        log.start()
    outcomes: list[dict[str, int]] = [{}, {}]

    def writer(index: int) -> None:
        for i in range(15):
            name = f"w{index}-{i}" if i % 3 else "shared"
            outcomes[index][name] = logs[index].append({"name": name})

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

    late = StateLog(open_cluster(), topic, dict, _register)
    late.start()
    assert late.state == first
    for log in [*logs, late]:
        log.close()
