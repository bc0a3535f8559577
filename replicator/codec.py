"""The byte layouts of MM2's offset-sync and checkpoint records, and the provenance header.

Layouts use Kafka protocol types (STRING = int16 length + UTF-8, big-endian integers), so an
MM2 tool reading these topics understands them. Pure."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import chain
from operator import attrgetter, itemgetter

from engine.fastpath import native
from engine.types import ConsumedRecord, Headers, Record, TopicPartition
from replicator.offsets import OffsetSync

#: The header marking a replicated record: `origin;source;offset` (the cluster the record was
#: first written to, the cluster it was copied from and its offset there).
PROVENANCE_HEADER = "streamgov.replication"

_CHECKPOINT_VERSION = 0


class CodecError(ValueError):
    """Bytes that are not a record of the expected layout."""


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


class _Reader:
    def __init__(self, data: bytes | None) -> None:
        if data is None:
            raise CodecError("record has no bytes")
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise CodecError("record is truncated")
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return int(value)

    def string(self) -> str:
        size = self.take(">h")
        if size < 0 or self.at + size > len(self.data):
            raise CodecError("record has a bad string length")
        text = self.data[self.at : self.at + size].decode("utf-8", errors="strict")
        self.at += size
        return text


def sync_key(partition: TopicPartition) -> bytes:
    """The key of an offset-sync record: source topic and partition."""
    return _string(partition.topic) + struct.pack(">i", partition.partition)


def sync_value(sync: OffsetSync) -> bytes:
    """The value of an offset-sync record: upstream and downstream offsets."""
    return struct.pack(">qq", sync.upstream, sync.downstream)


def read_sync(key: bytes | None, value: bytes | None) -> tuple[TopicPartition, OffsetSync]:
    """Decode an offset-sync record; `CodecError` if it is not one."""
    k = _Reader(key)
    partition = TopicPartition(k.string(), k.take(">i"))
    v = _Reader(value)
    return partition, OffsetSync(v.take(">q"), v.take(">q"))


@dataclass(frozen=True)
class Checkpoint:
    """A group's committed source offset and its translation on the target."""

    group: str
    topic: str
    partition: int
    upstream: int
    downstream: int
    metadata: str = ""


def checkpoint_key(checkpoint: Checkpoint) -> bytes:
    """The key of a checkpoint record: group, target topic, partition."""
    return (
        _string(checkpoint.group)
        + _string(checkpoint.topic)
        + struct.pack(">i", checkpoint.partition)
    )


def checkpoint_value(checkpoint: Checkpoint) -> bytes:
    """The value of a checkpoint record: version 0, offsets, the commit's metadata."""
    return struct.pack(
        ">hqq", _CHECKPOINT_VERSION, checkpoint.upstream, checkpoint.downstream
    ) + _string(checkpoint.metadata)


def read_checkpoint(key: bytes | None, value: bytes | None) -> Checkpoint:
    """Decode a checkpoint record; `CodecError` if it is not one."""
    k = _Reader(key)
    group, topic, partition = k.string(), k.string(), k.take(">i")
    v = _Reader(value)
    if v.take(">h") != _CHECKPOINT_VERSION:
        raise CodecError("unknown checkpoint version")
    upstream, downstream = v.take(">q"), v.take(">q")
    return Checkpoint(group, topic, partition, upstream, downstream, v.string())


@dataclass(frozen=True)
class Provenance:
    """Where a replicated record came from."""

    origin: str
    source: str
    offset: int


def provenance(headers: Headers) -> Provenance | None:
    """The record's provenance header, if it carries a well-formed one."""
    for name, value in headers:
        if name == PROVENANCE_HEADER:
            parts = value.decode("utf-8", errors="replace").split(";")
            if len(parts) == 3 and parts[2].lstrip("-").isdigit():
                return Provenance(parts[0], parts[1], int(parts[2]))
    return None


def provenance_header(origin: str, source: str, offset: int) -> tuple[str, bytes]:
    """The provenance header of a copy."""
    return (PROVENANCE_HEADER, f"{origin};{source};{offset}".encode())


def stamp(headers: Headers, source: str, offset: int, earlier: Provenance | None = None) -> Headers:
    """The headers of the copy: the source's headers (any earlier provenance header replaced)
    and a provenance header keeping the record's first origin (`earlier`: the record's
    provenance, when the caller already read it)."""
    if earlier is None:
        earlier = provenance(headers)
    if earlier is None:
        return (*headers, provenance_header(source, source, offset))
    origin = earlier.origin
    kept = tuple(h for h in headers if h[0] != PROVENANCE_HEADER)
    return (*kept, provenance_header(origin, source, offset))


_NAME = itemgetter(0)
_HEADERS = attrgetter("headers")


def any_provenance(records: Sequence[ConsumedRecord]) -> bool:
    """Whether any of the records carries a provenance header (one pass over every header
    name of the batch, without a Python step per record)."""
    return PROVENANCE_HEADER in map(_NAME, chain.from_iterable(map(_HEADERS, records)))


def fresh_copies_py(records: Sequence[ConsumedRecord], source: str, partition: int) -> list[Record]:
    """The copies of records that carry no provenance header (`any_provenance` is False):
    each record as it is, into `partition`, plus the provenance header `stamp` gives it
    (`source` is its origin and source). The copy path's common case; the reference of the
    C fast path's `copies_with_header`."""
    prefix = f"{source};{source};".encode()
    name = PROVENANCE_HEADER
    return [
        Record(
            r.value,
            r.key,
            (*r.headers, (name, b"%b%d" % (prefix, r.offset))),
            r.timestamp_ms,
            partition,
        )
        for r in records
    ]


def _fresh_copies_c(records: Sequence[ConsumedRecord], source: str, partition: int) -> list[Record]:
    """`fresh_copies_py` in C: each copy built without a Python step."""
    prefix = f"{source};{source};".encode()
    copies: list[Record] = native.copies_with_header(
        Record, list(records), PROVENANCE_HEADER, prefix, partition
    )
    return copies


# The C path fills Record slot by slot: only while its fields are the ones it knows (an
# extension built before it existed, or a changed Record, uses the Python path).
HAVE_C_COPIES = (
    native is not None
    and hasattr(native, "copies_with_header")
    and {f.name for f in fields(Record)} == {"value", "key", "headers", "timestamp_ms", "partition"}
)
fresh_copies = _fresh_copies_c if HAVE_C_COPIES else fresh_copies_py
