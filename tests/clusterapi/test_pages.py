"""Record pages written directly as JSON equal what the API's models render, for any records;
the C writer of the records (`clusterapi._pages`) gives the same bytes as its pure-Python
reference (`record_items` encoded by orjson)."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterapi import pages as pages_module
from clusterapi.links import Links
from clusterapi.pages import items_json, record_items, record_page
from clusterapi.service import iso
from engine.types import ConsumedRecord, PartitionInfo
from tests.clusterapi import reference

# Kafka's timestamps are epoch milliseconds; datetime covers years 1 to 9999.
TIMESTAMPS = st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999)
NAMES = st.text(min_size=1, max_size=40)
# Header names exercise JSON escapes: quotes, backslashes, control characters, non-ASCII.
ESCAPED = '"\\/\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7fé€\u2028😀a'
HEADER_NAMES = NAMES | st.text(alphabet=ESCAPED, max_size=12)


@given(TIMESTAMPS)
def test_iso_matches_exact_arithmetic(ms: int) -> None:
    assert iso(ms) == reference.iso(ms)


@st.composite
def pages(draw: st.DrawFn) -> tuple[Links, str, PartitionInfo, int, int, list[ConsumedRecord]]:
    topic = draw(NAMES)
    partition = draw(st.integers(0, 9999))
    start = draw(st.integers(0, 10**12))
    count = draw(st.integers(0, 12))
    records = [
        ConsumedRecord(
            topic=topic,
            partition=partition,
            offset=start + i,
            timestamp_ms=draw(TIMESTAMPS),
            key=draw(st.none() | st.binary(max_size=20)),
            value=draw(st.none() | st.binary(max_size=60)),
            headers=tuple(
                draw(st.lists(st.tuples(HEADER_NAMES, st.binary(max_size=10)), max_size=3))
            ),
        )
        for i in range(count)
    ]
    latest = start + count + draw(st.integers(0, 5))
    info = PartitionInfo(partition, start, latest)
    limit = draw(st.integers(1, 15))
    links = Links(draw(st.sampled_from(["http://h:8081/", "https://a.b/x/"])), draw(NAMES))
    return links, topic, info, start, limit, records


@settings(deadline=None)  # a shared machine can stall one example past any deadline
@given(pages())
def test_record_page_equals_the_models_rendering(
    page: tuple[Links, str, PartitionInfo, int, int, list[ConsumedRecord]],
) -> None:
    links, topic, info, start, limit, records = page
    fast = json.loads(record_page(links, topic, info, start, limit, records))
    assert fast == reference.record_page(links, topic, info, start, limit, records)


@settings(deadline=None)  # a shared machine can stall one example past any deadline
@given(pages())
def test_the_c_writer_gives_the_references_bytes(
    page: tuple[Links, str, PartitionInfo, int, int, list[ConsumedRecord]],
) -> None:
    if pages_module._native is None:
        pytest.skip("the C writer is not in use (not built, or STREAMGOV_PURE_PYTHON=1)")
    links, topic, info, _, _, records = page
    expected = orjson.dumps(record_items(links, topic, info.partition, records))
    assert items_json(links, topic, info.partition, records) == expected
