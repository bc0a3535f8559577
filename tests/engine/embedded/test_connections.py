"""A thread keeps a bounded number of topic databases open, so clusters with many topics do
not run out of file descriptors; closed ones reopen transparently."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster, engine
from engine.types import Record


def test_many_topics_keep_few_databases_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "MAX_OPEN_TOPIC_DBS", 4)
    with EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as cluster:
        names = [f"t{i}" for i in range(12)]
        for name in names:
            cluster.create_topic(name, 1)
            cluster.produce(name, [Record(name.encode())])
        for name in reversed(names):  # every one reopens after being closed, data intact
            (record,) = cluster.fetch(name, 0, 0, 10)
            assert record.value == name.encode()
        open_dbs = cluster.engine._state.conns.by_key
        topic_dbs = [key for key in open_dbs if key not in ("cluster.db", "groups.db")]
        assert len(topic_dbs) <= 4
        assert cluster.topic_settings(names)["t0"].partitions == 1
