"""The direct Produce response encoder against kio's generic encoder: the same bytes for every
response the Produce handler can give, at every version the listener answers; shapes it does
not write go through kio."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kio.schema.errors import ErrorCode

from engine.kafka_listener import produce_response
from engine.kafka_listener.apis import APIS
from engine.kafka_listener.handlers.log import _partition_reply
from engine.kafka_listener.messages import encode_response, encode_with_kio

#: Every Produce version the listener answers (kio, and so the listener, has none below v3).
VERSIONS = [v for v in range(APIS[0].min_version, APIS[0].max_version + 1) if v >= 3]

i32 = st.integers(-(2**31), 2**31 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)

partitions = st.builds(
    _partition_reply,
    index=i32,
    error=st.sampled_from([int(code) for code in ErrorCode]),
    base=i64,
    start=i64,
)
replies = st.fixed_dictionaries(
    {
        "responses": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=300),
                    "partition_responses": st.lists(partitions, max_size=5),
                }
            ),
            max_size=4,
        )
    },
    optional={"throttle_time": st.integers(0, 2**31 - 1)},
)


def test_every_version_the_listener_answers_is_covered() -> None:
    assert list(produce_response.VERSIONS) == VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
@given(reply=replies, correlation=i32)
def test_the_same_bytes_as_kio(version: int, reply: dict[str, Any], correlation: int) -> None:
    frame = produce_response.encode(version, correlation, reply)
    assert frame == encode_with_kio(0, version, correlation, reply)
    assert encode_response(0, version, correlation, reply) == frame


@given(
    append_time=st.one_of(st.just(-1), st.integers(0, 2**47)),
    version=st.sampled_from(VERSIONS),
)
def test_log_append_times_match_kio(append_time: int, version: int) -> None:
    reply = {
        "responses": [
            {
                "name": "t",
                "partition_responses": [
                    {**_partition_reply(0, 0, 5, 0), "log_append_time": append_time}
                ],
            }
        ]
    }
    assert produce_response.encode(version, 1, reply) == encode_with_kio(0, version, 1, reply)


@pytest.mark.parametrize(
    "reply",
    [
        {
            "responses": [
                {
                    "name": "t",
                    "partition_responses": [
                        {
                            "index": 0,
                            "error_code": 0,
                            "base_offset": 0,
                            "record_errors": [{"batch_index": 0}],
                        }
                    ],
                }
            ]
        },
        {"responses": [], "unknown": 1},
        {
            "responses": [
                {
                    "name": "t",
                    "partition_responses": [{"index": "0", "error_code": 0, "base_offset": 0}],
                }
            ]
        },
    ],
)
def test_other_shapes_go_through_kio(reply: dict[str, Any]) -> None:
    assert produce_response.encode(9, 1, reply) is None


def test_versions_it_does_not_write_go_through_kio() -> None:
    reply = {"responses": [{"name": "t", "partition_responses": [_partition_reply(0, 0, 1, 0)]}]}
    assert produce_response.encode(10, 1, reply) is None
    assert encode_response(0, 10, 1, reply) == encode_with_kio(0, 10, 1, reply)
