"""The direct Produce request decoder against kio's reader: the same request for every body
kio's writer makes, at every version the listener decodes; on damaged frames it refuses exactly
what kio refuses (with `MalformedRequestError`), and never reads past the frame."""

from __future__ import annotations

import dataclasses
import datetime
import io
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.serial import entity_writer

from engine.kafka_listener import messages, produce_request
from engine.kafka_listener.apis import APIS
from engine.kafka_listener.framing import MalformedRequestError, OversizeArrayError

#: Every Produce version the listener serves (kio, and so the listener, has none below v3).
VERSIONS = [v for v in range(APIS[0].min_version, APIS[0].max_version + 1) if v >= 3]

i16 = st.integers(-(2**15), 2**15 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
names = st.text(max_size=40)


def _classes(version: int) -> tuple[type, type, type]:
    request = messages.request_type(0, version)
    module = sys.modules[request.__module__]
    return request, module.TopicProduceData, module.PartitionProduceData


@st.composite
def requests(draw: st.DrawFn, version: int) -> Any:
    request, topic, partition = _classes(version)
    topics = draw(
        st.lists(
            st.builds(
                lambda name, parts: topic(name=name, partition_data=tuple(parts)),
                names,
                st.lists(
                    st.builds(
                        lambda index, records: partition(index=index, records=records),
                        i32,
                        st.one_of(st.none(), st.binary(max_size=300)),
                    ),
                    max_size=6,
                ),
            ),
            max_size=4,
        )
    )
    return request(
        transactional_id=draw(st.one_of(st.none(), names)),
        acks=draw(i16),
        timeout=datetime.timedelta(milliseconds=draw(i32)),
        topic_data=tuple(topics),
    )


def _encode(version: int, body: Any) -> bytes:
    out = io.BytesIO()
    entity_writer(messages.request_type(0, version))(out, body)
    return out.getvalue()


def _plain(body: Any) -> Any:
    """The body with every records view turned into bytes (kio's own form)."""
    topics = tuple(
        dataclasses.replace(
            t,
            partition_data=tuple(
                dataclasses.replace(p, records=None if p.records is None else bytes(p.records))
                for p in t.partition_data
            ),
        )
        for t in body.topic_data
    )
    return dataclasses.replace(body, topic_data=topics)


def _kio(version: int, frame: bytes, offset: int) -> Any:
    """kio's reading of the body, or the exception it raised."""
    try:
        return messages.decode_with_kio(0, version, frame, offset)
    except Exception as exc:
        return exc


def _null_array(body: Any) -> bool:
    """Whether kio read a null where Kafka's schema allows no null (an array)."""
    return body.topic_data is None or any(t.partition_data is None for t in body.topic_data)


def _same_as_kio(version: int, frame: bytes, offset: int = 0) -> None:
    try:
        produce_request.decode(version, frame, offset)
    except OversizeArrayError:
        # kio is not asked: a compact array count of billions aborts the process inside its
        # native reader (test_an_array_count_of_billions_is_refused_before_reading).
        return
    except MalformedRequestError:
        pass
    expected = _kio(version, frame, offset)
    # kio reads a null array as None, which no handler can serve; Kafka refuses it as
    # unreadable, and so does the decoder.
    if isinstance(expected, Exception) or _null_array(expected):
        with pytest.raises(MalformedRequestError):
            produce_request.decode(version, frame, offset)
        return
    got = produce_request.decode(version, frame, offset)
    assert type(got) is type(expected)
    assert _plain(got) == expected
    assert messages.decode_body(0, version, frame, offset) == got


def test_every_version_the_listener_serves_is_covered() -> None:
    assert list(produce_request.VERSIONS) == VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data(), prefix=st.binary(max_size=8))
def test_the_same_request_as_kio(version: int, data: st.DataObject, prefix: bytes) -> None:
    body = data.draw(requests(version))
    frame = prefix + _encode(version, body)
    _same_as_kio(version, frame, len(prefix))


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_records_are_views_into_the_frame(version: int, data: st.DataObject) -> None:
    frame = _encode(version, data.draw(requests(version)))
    got = produce_request.decode(version, frame, 0)
    for topic in got.topic_data:
        for part in topic.partition_data:
            if part.records is not None:
                assert isinstance(part.records, memoryview)
                assert part.records.readonly
                assert part.records.obj is frame


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=300)
@given(data=st.data())
def test_damaged_frames_are_refused_as_kio_refuses_them(version: int, data: st.DataObject) -> None:
    frame = bytearray(_encode(version, data.draw(requests(version))))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        at = data.draw(st.integers(0, len(frame)))
        if action == "cut":
            del frame[at:]
        elif action == "flip" and at < len(frame):
            frame[at] = data.draw(st.integers(0, 255))
        elif action == "insert":
            frame[at:at] = data.draw(st.binary(min_size=1, max_size=5))
        elif at < len(frame):
            del frame[at : at + data.draw(st.integers(1, 5))]
    _same_as_kio(version, bytes(frame))


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_every_truncation_is_refused(version: int, data: st.DataObject) -> None:
    frame = _encode(version, data.draw(requests(version)))
    for end in range(len(frame)):
        with pytest.raises(MalformedRequestError):
            produce_request.decode(version, frame[:end], 0)


@pytest.mark.parametrize(
    ("version", "frame"),
    [
        # a flexible request with a tagged field at its end (kio refuses unknown tags)
        (9, bytes.fromhex("00" + "ffff" + "00007530" + "01" + "010000")),
        # a topic name that is not UTF-8
        (3, bytes.fromhex("ffff" + "0001" + "00007530" + "00000001" + "0001ff" + "00000000")),
        # an array of -2 topics
        (3, bytes.fromhex("ffff" + "0001" + "00007530" + "fffffffe")),
        # a null array of topics (kio reads None)
        (3, bytes.fromhex("ffff" + "0001" + "00007530" + "ffffffff")),
        # a null array of partitions (kio reads None)
        (9, bytes.fromhex("00" + "0001" + "00007530" + "02" + "01" + "00" + "00" + "00")),
        # a record set longer than the frame
        (
            8,
            bytes.fromhex(
                "ffff" + "0001" + "00007530" + "00000001" + "000174" + "00000001"
                "00000000" + "00000010" + "abcd"
            ),
        ),
    ],
)
def test_malformed_bodies(version: int, frame: bytes) -> None:
    kio = _kio(version, frame, 0)
    assert isinstance(kio, Exception) or _null_array(kio)
    with pytest.raises(MalformedRequestError):
        produce_request.decode(version, frame, 0)


def test_versions_it_does_not_read() -> None:
    with pytest.raises(ValueError, match="v10"):
        produce_request.decode(10, b"", 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_an_array_count_of_billions_is_refused_before_reading(version: int) -> None:
    """A count kio's reader would try to allocate for (and abort the process on, in a
    flexible version); here refused as soon as it is read."""
    head = ("00" if version >= 9 else "ffff") + "0001" + "00007530"
    topics = "ffffffff0f" if version >= 9 else "7fffffff"
    with pytest.raises(OversizeArrayError):
        produce_request.decode(version, bytes.fromhex(head + topics), 0)
    partitions = "ffffffff0f" if version >= 9 else "7fffffff"
    name = "0274" if version >= 9 else "000174"
    frame = bytes.fromhex(head + ("02" if version >= 9 else "00000001") + name + partitions)
    with pytest.raises(OversizeArrayError):
        produce_request.decode(version, frame, 0)
