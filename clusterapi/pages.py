"""Pages of records as JSON bytes, built without a model object per record.

`GET .../records` is the API's bulk read: a page holds up to 1,000 records, and building a
pydantic model per record (then validating and encoding it again) cost more than reading the
records. `record_page` writes the same JSON that `RecordDataList` describes, with the URL and
resource-name prefixes computed once per page; the tests check it against the models field by
field. The records themselves are written by the C extension `clusterapi._pages` when it is
built (and `STREAMGOV_PURE_PYTHON=1` is not set); its reference and fallback is `record_items`
(plain dicts) encoded by orjson, and the tests check that both give the same bytes.
"""

from __future__ import annotations

import os
from base64 import b64encode
from collections.abc import Sequence
from typing import Any

import orjson

from clusterapi import service
from clusterapi.links import Links
from clusterapi.service import iso
from engine.cluster import Cluster
from engine.types import ConsumedRecord, PartitionInfo

_native: Any = None
if os.environ.get("STREAMGOV_PURE_PYTHON") != "1":
    try:
        from clusterapi import _pages as _native  # type: ignore[attr-defined,no-redef,unused-ignore]
    except ImportError:
        _native = None


def _data(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {"type": "BINARY", "size": len(raw), "data": b64encode(raw).decode("ascii")}


def record_items(
    links: Links, topic: str, partition: int, records: Sequence[ConsumedRecord]
) -> list[dict[str, Any]]:
    """The records as `RecordDataItem` JSON objects."""
    url = links.url("topics", topic, "partitions", partition, "records")
    crn = links.crn(("topic", topic), ("partition", partition)) + "/offset="
    cluster_id = links.cluster_id
    return [
        {
            "kind": "KafkaRecord",
            "metadata": {"self": f"{url}/{r.offset}", "resource_name": f"{crn}{r.offset}"},
            "cluster_id": cluster_id,
            "topic_name": topic,
            "partition_id": partition,
            "offset": r.offset,
            "timestamp": iso(r.timestamp_ms),
            "timestamp_ms": r.timestamp_ms,
            "key": _data(r.key),
            "value": _data(r.value),
            "headers": [
                {"name": name, "value": b64encode(value).decode("ascii")}
                for name, value in r.headers
            ],
        }
        for r in records
    ]


def items_json(
    links: Links, topic: str, partition: int, records: Sequence[ConsumedRecord]
) -> bytes:
    """The records as a JSON array of `RecordDataItem` objects (what `record_items` gives,
    encoded by orjson)."""
    if _native is None:
        return orjson.dumps(record_items(links, topic, partition, records))
    url = links.url("topics", topic, "partitions", partition, "records")
    crn = links.crn(("topic", topic), ("partition", partition)) + "/offset="
    # Each object: head, offset, middle, offset, tail, offset, then the record's own fields.
    head = b'{"kind":"KafkaRecord","metadata":{"self":' + orjson.dumps(f"{url}/")[:-1]
    middle = b'","resource_name":' + orjson.dumps(crn)[:-1]
    tail = b'"},"cluster_id":%s,"topic_name":%s,"partition_id":%d,"offset":' % (
        orjson.dumps(links.cluster_id),
        orjson.dumps(topic),
        partition,
    )
    return b"[%s]" % _native.render_records(records, head, middle, tail, iso)


def record_page(
    links: Links,
    topic: str,
    info: PartitionInfo,
    start: int,
    limit: int,
    records: Sequence[ConsumedRecord],
) -> bytes:
    """A `RecordDataList` as JSON: `records` read from `start` (at most `limit` of them)."""
    records = records[:limit]
    next_offset = records[-1].offset + 1 if records else start
    url = links.url("topics", topic, "partitions", info.partition, "records")
    more = next_offset < info.latest_offset
    head = {
        "kind": "KafkaRecordList",
        "metadata": {
            "self": url,
            "next": f"{url}?offset={next_offset}&limit={limit}" if more else None,
        },
    }
    return b'%s,"data":%s,"next_offset":%d,"earliest_offset":%d,"latest_offset":%d}' % (
        orjson.dumps(head)[:-1],
        items_json(links, topic, info.partition, records),
        next_offset,
        info.earliest_offset,
        info.latest_offset,
    )


def browse(
    cluster: Cluster,
    base_url: str,
    cluster_id: str,
    topic: str,
    partition: int,
    *,
    offset: int | None,
    timestamp: str | None,
    position: str | None,
    limit: int,
) -> bytes:
    """The page `GET .../partitions/{partition}/records` answers, from validated parameters
    (the FastAPI route and the raw fast path both call it). Raises `ClusterApiError` (404 for
    another cluster, topic or partition; 400 for conflicting or bad start parameters)."""
    service.check_cluster(cluster, cluster_id)
    links = Links(base_url, cluster_id)
    info = service.find_partition(cluster.describe_topic(topic), partition)
    start = service.start_offset(
        cluster, topic, info, offset=offset, timestamp=timestamp, position=position, limit=limit
    )
    records = service.read_records(cluster, topic, info, start, limit)
    return record_page(links, topic, info, start, limit, records)
