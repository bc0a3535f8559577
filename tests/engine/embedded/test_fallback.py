"""The engine end to end on the pure-Python fallback (as on a machine without a C compiler)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster, chunks, engine, log
from engine.errors import DamagedFileError
from engine.fastpath import native
from engine.types import ConsumedRecord, Record, TopicPartition


@pytest.fixture()
def pure_python(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(log, "pack_chunks", chunks.pack_chunks_py)
    monkeypatch.setattr(log, "unpack_into", chunks.unpack_into_py)
    monkeypatch.setattr(log, "pack_partitions", chunks.pack_partitions_py)
    monkeypatch.setattr(engine, "make_metadata", chunks.make_metadata_py)
    yield


def test_round_trip_without_the_c_fast_path(pure_python: None, cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t", 3)
    records = [
        Record(f"v{i}".encode(), f"k{i % 7}".encode(), headers=(("i", str(i).encode()),))
        for i in range(2500)
    ]
    metadata = cluster.produce("t", records)
    producer = cluster.producer()
    producer.send("t", b"last", b"k0")
    metadata += producer.flush()
    consumer = cluster.consumer(auto_offset_reset="earliest")
    consumer.assign([TopicPartition("t", p) for p in range(3)])
    seen: dict[tuple[int, int], ConsumedRecord] = {}
    while len(seen) < 2501:
        for record in consumer.poll(1, max_records=333):
            seen[(record.partition, record.offset)] = record
    for meta, sent in zip(metadata, [*records, Record(b"last", b"k0")], strict=True):
        stored = seen[(meta.partition, meta.offset)]
        assert (stored.key, stored.value, stored.headers) == (sent.key, sent.value, sent.headers)
    consumer.close()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "cluster.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(DamagedFileError, match=r"cluster\.db is damaged \(file is not a database"):
        EmbeddedCluster(root, maintenance_interval_s=None)


@pytest.mark.skipif(native is None, reason="the whole suite already runs on the fallback")
def test_the_engine_suite_passes_on_the_pure_python_path() -> None:
    root = Path(__file__).resolve().parents[3]
    suite = [
        "tests/engine/embedded/test_log.py",
        "tests/engine/embedded/test_producer.py",
        "tests/engine/embedded/test_maintenance.py",
        "tests/engine/test_partitioner.py",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite],
        cwd=root,
        env={**os.environ, "STREAMGOV_PURE_PYTHON": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout
