"""The wire protocol with a raw socket: version negotiation, bad frames, disconnects and
slow clients, and a fuzz test over frames. The listener must answer what Kafka answers or
close the connection, never crash, and keep serving every other connection."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.kafka_listener.apis import APIS
from tests.engine.listener.conftest import Served

pytestmark = pytest.mark.kafka


def connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.listener.port), timeout=10)
    sock.settimeout(10)
    return sock


def request(api_key: int, version: int, correlation: int, body: bytes = b"") -> bytes:
    """A non-flexible (header v1) request frame."""
    frame = struct.pack(">hhih", api_key, version, correlation, 4) + b"test" + body
    return struct.pack(">i", len(frame)) + frame


def read_frame(sock: socket.socket) -> bytes:
    """One response frame (without its size), or b"" when the broker closed."""
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            return b""
        head += chunk
    (size,) = struct.unpack(">i", head)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError("the broker closed inside a response")
        data += chunk
    return data


def still_serves(served: Served) -> None:
    """A fresh connection gets a well-formed ApiVersions v0 answer."""
    with connect(served) as sock:
        sock.sendall(request(18, 0, 99))
        reply = read_frame(sock)
    correlation, error, count = struct.unpack_from(">ihi", reply)
    assert (correlation, error) == (99, 0)
    assert count == len(APIS)


def test_api_versions_v0_lists_every_api(served: Served) -> None:
    with connect(served) as sock:
        sock.sendall(request(18, 0, 7))
        reply = read_frame(sock)
    correlation, error, count = struct.unpack_from(">ihi", reply)
    assert (correlation, error) == (7, 0)
    ranges = {
        struct.unpack_from(">hhh", reply, 10 + 6 * i)[0]: struct.unpack_from(
            ">hhh", reply, 10 + 6 * i
        )[1:]
        for i in range(count)
    }
    assert ranges == {key: (api.min_version, api.max_version) for key, api in APIS.items()}


def test_a_too_new_api_versions_gets_a_v0_answer_naming_the_supported_range(
    served: Served,
) -> None:
    with connect(served) as sock:
        sock.sendall(request(18, 42, 5, b"\x00\x00\x00"))
        reply = read_frame(sock)
    assert reply == struct.pack(">ihihhh", 5, 35, 1, 18, 0, APIS[18].max_version)


@pytest.mark.parametrize(
    "frame",
    [
        request(9999, 0, 1),  # unknown API key
        request(3, 99, 1),  # unsupported Metadata version
        request(0, 1, 1, b"\x00\x01\x00\x00\x03\xe8\x00\x00\x00\x00"),  # Produce v1 (message sets)
        request(3, 1, 1, b"\x00\x00"),  # body cut short
        struct.pack(">i", 2) + b"\x00\x03",  # shorter than a header
        struct.pack(">i", -5),  # negative size
        struct.pack(">i", 200 * 1024 * 1024),  # over socket.request.max.bytes
    ],
    ids=[
        "unknown-key",
        "unknown-version",
        "legacy-produce",
        "short-body",
        "short-header",
        "negative",
        "oversize",
    ],
)
def test_bad_frames_close_the_connection_and_others_carry_on(served: Served, frame: bytes) -> None:
    with connect(served) as sock:
        sock.sendall(frame)
        assert read_frame(sock) == b""
    still_serves(served)


def test_a_client_that_disconnects_mid_request_harms_no_one(served: Served) -> None:
    full = request(3, 1, 1, struct.pack(">i", -1))
    with connect(served) as sock:
        sock.sendall(full[: len(full) // 2])
    still_serves(served)


def test_a_stalled_client_does_not_hold_up_others(served: Served) -> None:
    """A client that sent half a frame and waits blocks only itself."""
    stalled = connect(served)
    try:
        stalled.sendall(struct.pack(">i", 1000) + b"\x00" * 10)
        for _ in range(5):
            still_serves(served)
    finally:
        stalled.close()


def test_requests_are_answered_in_order_when_pipelined(served: Served) -> None:
    with connect(served) as sock:
        sock.sendall(b"".join(request(18, 0, c) for c in range(20)))
        got = [struct.unpack_from(">i", read_frame(sock))[0] for _ in range(20)]
    assert got == list(range(20))


frames = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda key, version, corr, body: struct.pack(">hhi", key, version, corr) + body,
        st.sampled_from(sorted(APIS)) | st.integers(-5, 100),
        st.integers(-2, 15),
        st.integers(-(2**31), 2**31 - 1),
        st.binary(max_size=300),
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames)
def test_fuzzed_frames_get_an_answer_or_a_close_never_a_hang(served: Served, frame: bytes) -> None:
    with connect(served) as sock:
        sock.settimeout(45)
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        try:
            reply = read_frame(sock)
        except TimeoutError:
            # A well-formed request may legitimately wait (a long-polling fetch, a join);
            # those have bounded waits and end well before the timeout.
            pytest.fail("the broker neither answered nor closed")
        if reply:
            assert struct.unpack_from(">i", reply)[0] == struct.unpack_from(">i", frame, 4)[0]
    still_serves(served)
