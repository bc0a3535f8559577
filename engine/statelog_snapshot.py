"""Snapshots of a state log's fold, kept in a topic beside the log: `<log>-snapshots`.

A snapshot is the state after the records below some offset, written by a component's
`SnapshotCodec` as pieces (a string is written as it is, length-prefixed, so long texts need
no JSON escaping; any other piece as one line of JSON), zlib-compressed and cut into chunk
records; a
manifest record written after the chunks names the log, the offset, the codec version, a
fingerprint of the log's record just below the offset, and the offset and SHA-256 of every
chunk. It lives on the cluster itself, so it works on every backend and every instance can use
the snapshot another one wrote.

A snapshot is an optimisation, never the source of truth: `load` answers None (and the caller
replays the log from the start) when there is no manifest, when the manifest is of another
codec version or another log, when the log no longer holds the fingerprinted record (the
topic was recreated or truncated), when a chunk is missing or its checksum differs, or when the
codec cannot read the pieces.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from engine.cluster import Cluster
from engine.errors import EngineError, TopicAlreadyExistsError
from engine.types import ConsumedRecord, OffsetSpec, Record

if TYPE_CHECKING:
    from engine.statelog import SnapshotCodec

logger = logging.getLogger(__name__)

S = TypeVar("S")

FORMAT = 2
#: Old snapshots expire; a restart that finds none replays the log and writes a new one.
TOPIC_CONFIG = {"retention.ms": str(7 * 24 * 3600 * 1000), "cleanup.policy": "delete"}
#: Compressed bytes per chunk record (well under every backend's default record limit).
CHUNK_BYTES = 256 * 1024
_MANIFEST_KEY = b"manifest"
_CHUNK_KEY = b"chunk"
#: How far back from the end `load` looks for the newest manifest.
_SCAN_RECORDS = 4096
_SCAN_WINDOW = 256


def topic_for(log_topic: str) -> str:
    """The snapshot topic of a state-log topic."""
    return f"{log_topic}-snapshots"


def fingerprint(cluster: Cluster, log_topic: str, offset: int) -> str | None:
    """SHA-256 of the log record just below `offset` (None if the log does not hold it)."""
    if offset <= 0:
        return None
    try:
        records = cluster.fetch(log_topic, 0, offset - 1, 1)
    except EngineError:
        return None
    if not records or records[0].offset != offset - 1:
        return None
    digest = hashlib.sha256(str(offset - 1).encode())
    digest.update(records[0].value or b"")
    return digest.hexdigest()


def write(cluster: Cluster, log_topic: str, codec: SnapshotCodec[S], state: S, offset: int) -> None:
    """Write a snapshot of `state`, the fold of the log's records below `offset`."""
    mark = fingerprint(cluster, log_topic, offset)
    if mark is None:
        raise EngineError(f"state log {log_topic!r} holds no record at offset {offset - 1}")
    chunks = list(_compressed_chunks(codec.dump(state)))
    topic = topic_for(log_topic)
    if topic not in cluster.list_topics(include_internal=True):
        with contextlib.suppress(TopicAlreadyExistsError):  # another instance was first
            cluster.create_topic(topic, 1, TOPIC_CONFIG)
    metas = cluster.produce(topic, [Record(c, key=_CHUNK_KEY, partition=0) for c in chunks])
    manifest = {
        "format": FORMAT,
        "log": log_topic,
        "offset": offset,
        "codec": codec.version,
        "fingerprint": mark,
        "chunks": [
            [meta.offset, hashlib.sha256(c).hexdigest()]
            for meta, c in zip(metas, chunks, strict=True)
        ],
    }
    cluster.produce(topic, [Record(json.dumps(manifest).encode(), key=_MANIFEST_KEY, partition=0)])


def load(cluster: Cluster, log_topic: str, codec: SnapshotCodec[S]) -> tuple[S, int] | None:
    """The newest valid snapshot's (state, offset), or None: replay the log instead."""
    topic = topic_for(log_topic)
    try:
        if topic not in cluster.list_topics(include_internal=True):
            return None
        manifest = _newest_manifest(cluster, topic)
        if manifest is None:
            return None
        offset = manifest["offset"]
        if (
            manifest.get("format") != FORMAT
            or manifest.get("log") != log_topic
            or manifest.get("codec") != codec.version
            or not isinstance(offset, int)
        ):
            return None
        if fingerprint(cluster, log_topic, offset) != manifest.get("fingerprint"):
            logger.warning(
                "state log %s: the snapshot at offset %d does not match the log; replaying",
                log_topic,
                offset,
            )
            return None
        pieces = _pieces(cluster, topic, [(int(o), str(h)) for o, h in manifest["chunks"]])
        collecting = gc.isenabled()
        gc.disable()  # a load makes millions of objects and frees none: nothing to collect
        try:
            state = codec.load(pieces)
            for _ in pieces:  # the codec must read every piece, and the checksums all hold
                raise ValueError("the codec left pieces unread")
            # The loaded state lives as long as the process: keep the collector from walking
            # it again and again.
            gc.freeze()
        finally:
            if collecting:
                gc.enable()
        return state, offset
    except Exception as exc:  # a damaged snapshot falls back to replay, whatever the damage
        logger.warning("state log %s: snapshot not used (%s); replaying the log", log_topic, exc)
        return None


def _compressed_chunks(pieces: Iterable[Any]) -> Iterator[bytes]:
    compressor = zlib.compressobj(1)
    pending: list[bytes] = []
    size = 0
    for piece in pieces:
        out = compressor.compress(_frame(piece))
        if out:
            pending.append(out)
            size += len(out)
        while size >= CHUNK_BYTES:
            joined = b"".join(pending)
            yield joined[:CHUNK_BYTES]
            rest = joined[CHUNK_BYTES:]
            pending, size = ([rest] if rest else []), len(rest)
    tail = b"".join(pending) + compressor.flush()
    while tail:
        yield tail[:CHUNK_BYTES]
        tail = tail[CHUNK_BYTES:]


def _newest_manifest(cluster: Cluster, topic: str) -> dict[str, Any] | None:
    end = cluster.list_offsets(topic, OffsetSpec.LATEST).get(0, 0)
    earliest = cluster.list_offsets(topic, OffsetSpec.EARLIEST).get(0, 0)
    stop = max(earliest, end - _SCAN_RECORDS)
    upper = end
    while upper > stop:
        lower = max(stop, upper - _SCAN_WINDOW)
        records = _read(cluster, topic, lower, upper)
        for record in reversed(records):
            if record.key == _MANIFEST_KEY:
                found = json.loads(record.value or b"")
                return found if isinstance(found, dict) else None
        upper = lower
    return None


def _read(cluster: Cluster, topic: str, lower: int, upper: int) -> list[ConsumedRecord]:
    records: list[ConsumedRecord] = []
    position = lower
    while position < upper:
        batch = cluster.fetch(topic, 0, position, upper - position)
        if not batch:
            break
        records.extend(r for r in batch if r.offset < upper)
        position = batch[-1].offset + 1
    return records


def _frame(piece: Any) -> bytes:
    """A piece as written: `t<length>\n<utf-8>` for a string, `j<json>\n` for the rest."""
    if isinstance(piece, str):
        data = piece.encode()
        return b"t%d\n%s" % (len(data), data)
    return b"j" + json.dumps(piece, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _pieces(cluster: Cluster, topic: str, chunks: list[tuple[int, str]]) -> Iterator[Any]:
    """The pieces of the chunks, read and checked one chunk at a time."""
    decompressor = zlib.decompressobj()
    buffer = b""
    for offset, digest in chunks:
        found = cluster.fetch(topic, 0, offset, 1)
        if not found or found[0].offset != offset or found[0].key != _CHUNK_KEY:
            raise ValueError(f"chunk at offset {offset} is missing")
        data = found[0].value or b""
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"chunk at offset {offset} is damaged")
        buffer += decompressor.decompress(data)
        position = 0
        while True:
            newline = buffer.find(b"\n", position)
            if newline < 0:
                break
            kind = buffer[position : position + 1]
            if kind == b"j":
                yield json.loads(buffer[position + 1 : newline])
                position = newline + 1
            elif kind == b"t":
                end = newline + 1 + int(buffer[position + 1 : newline])
                if end > len(buffer):
                    break
                yield buffer[newline + 1 : end].decode()
                position = end
            else:
                raise ValueError(f"unknown snapshot frame {kind!r}")
        buffer = buffer[position:]
    if buffer or decompressor.flush() or not decompressor.eof:
        raise ValueError("the last chunk is cut short")
