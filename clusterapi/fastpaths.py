"""The record-page route served without FastAPI's parameter solving (see `httpapi.fastpath`).

`browse_fast` answers `GET .../partitions/{partition_id}/records` when every parameter is in a
plain form: path parameters within the route's limits, and a query with each of `offset`,
`timestamp`, `position` and `limit` at most once, integers as ASCII digits within range, a
known `position`. Other query parameters are ignored, as the route ignores them. Anything else
(an empty or signed number, a repeated parameter, a value out of range) is left to the FastAPI
route, which answers it, errors included, in its own words; so does any error of the read
itself. A short page is read on the event loop: an SQLite read of up to `INLINE_RECORDS`
records takes less time than the hop to a worker thread and back. Longer pages go to the
thread pool, as the route's do.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qsl

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from clusterapi.models import MAX_JSON_INT, MAX_TOPIC_NAME
from clusterapi.pages import browse
from clusterapi.service import MAX_RECORDS_PAGE

#: Pages of at most this many records are read on the event loop.
INLINE_RECORDS = 100
_MAX_PARTITION = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,16}")
_POSITIONS = frozenset({"earliest", "latest"})
_PARAMETERS = frozenset({"offset", "timestamp", "position", "limit"})


def _number(text: str, low: int, high: int) -> int | None:
    if _DIGITS.fullmatch(text) is None:
        return None
    value = int(text)
    return value if low <= value <= high else None


def page_query(query_string: bytes) -> dict[str, str] | None:
    """The route's query parameters when each is given at most once and not empty (other
    parameters dropped), else None."""
    chosen: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in _PARAMETERS:
            if name in chosen or not value:
                return None
            chosen[name] = value
    return chosen


async def browse_fast(request: Request, path: dict[str, str]) -> Response | None:
    """The page the route would answer, or None to leave the request to the route."""
    query = page_query(request.scope["query_string"])
    if query is None:
        return None
    cluster_id, topic = path["cluster_id"], path["topic_name"]
    partition = _number(path["partition_id"], 0, _MAX_PARTITION)
    limit = _number(query.get("limit", "100"), 1, MAX_RECORDS_PAGE)
    offset_text = query.get("offset")
    offset = None if offset_text is None else _number(offset_text, 0, MAX_JSON_INT)
    timestamp, position = query.get("timestamp"), query.get("position")
    if (
        partition is None
        or limit is None
        or (offset_text is not None and offset is None)
        or (timestamp is not None and len(timestamp) > 64)
        or (position is not None and position not in _POSITIONS)
        or len(cluster_id) > 255
        or len(topic) > MAX_TOPIC_NAME
    ):
        return None
    cluster = request.app.state.cluster_admin.cluster
    read = partial(
        browse,
        cluster,
        str(request.base_url),
        cluster_id,
        topic,
        partition,
        offset=offset,
        timestamp=timestamp,
        position=position,
        limit=limit,
    )
    page = read() if limit <= INLINE_RECORDS else await run_in_threadpool(read)
    return Response(page, media_type="application/json")
