"""`FrameAssembler` against the obvious model of Kafka framing (a size, then that many bytes):
however a stream's bytes fall into reads, the frames come out whole, in order and unchanged,
staged ones and ones read into a buffer of their own alike; a bad size ends the stream; a
frame handed on is never written again. Then the same over a real socket to the listener."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.kafka_listener.frames import (
    MAX_QUEUED_FRAMES,
    OWN_BUFFER_FROM,
    STAGING_BYTES,
    BadFrameSizeError,
    Frame,
    FrameAssembler,
    FrameProtocol,
)
from tests.engine.listener.conftest import Served
from tests.engine.listener.test_protocol import connect, read_frame, request


def stream(frames: list[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(f)) + f for f in frames)


def model(data: bytes) -> list[bytes]:
    """The frames of a stream, read the plain way."""
    out, pos = [], 0
    while pos + 4 <= len(data):
        (size,) = struct.unpack_from(">i", data, pos)
        if pos + 4 + size > len(data):
            break
        out.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return out


def feed(assembler: FrameAssembler, data: bytes, cuts: list[int]) -> list[Frame]:
    """Hand `data` over as a socket would, in reads of at most the given sizes (cycled)."""
    got: list[Frame] = []
    pos = n = 0
    while pos < len(data):
        buffer = assembler.buffer()
        want = cuts[n % len(cuts)] if cuts else len(data)
        n += 1
        take = min(want, len(buffer), len(data) - pos)
        assert take > 0, "the assembler offered no room to read into"
        buffer[:take] = data[pos : pos + take]
        got += assembler.filled(take)
        pos += take
    return got


frame_sizes = st.one_of(
    st.integers(1, 300),
    st.integers(OWN_BUFFER_FROM - 8, OWN_BUFFER_FROM + 8),
    st.integers(STAGING_BYTES - 8, STAGING_BYTES + 8),
    st.integers(2 * STAGING_BYTES, 4 * STAGING_BYTES),
)


def numbered(sizes: list[int]) -> list[bytes]:
    """Frames of the given sizes whose bytes differ along their length and between them."""
    return [(struct.pack(">i", i) * (size // 4 + 1))[:size] for i, size in enumerate(sizes)]


@settings(max_examples=80, deadline=None)
@given(
    sizes=st.lists(frame_sizes, min_size=1, max_size=8),
    cuts=st.lists(st.integers(1, 3 * STAGING_BYTES), max_size=8),
)
def test_frames_come_out_whole_and_in_order_however_the_reads_fall(
    sizes: list[int], cuts: list[int]
) -> None:
    frames = numbered(sizes)
    data = stream(frames)
    assembler = FrameAssembler(1 << 30)
    got = feed(assembler, data, cuts)
    assert [bytes(f) for f in got] == model(data) == frames
    # Large frames are read-only views of buffers of their own, small ones bytes.
    for frame in got:
        if isinstance(frame, memoryview):
            assert frame.readonly
            assert len(frame) >= OWN_BUFFER_FROM
            assert len(frame.obj) == len(frame)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(frame_sizes, min_size=2, max_size=6),
    cuts=st.lists(st.integers(1, 3 * STAGING_BYTES), max_size=6),
)
def test_a_frame_handed_on_is_never_written_again(sizes: list[int], cuts: list[int]) -> None:
    frames = numbered(sizes)
    assembler = FrameAssembler(1 << 30)
    got: list[Frame] = []
    copies: list[bytes] = []
    for frame in frames:
        for done in feed(assembler, stream([frame]), cuts):
            got.append(done)
            copies.append(bytes(done))
    assert [bytes(f) for f in got] == copies == frames


@pytest.mark.parametrize("size", [0, -1, 1001])
@pytest.mark.parametrize("cut", [1, 3, 1000])
def test_a_bad_size_ends_the_stream_after_the_frames_before_it(size: int, cut: int) -> None:
    assembler = FrameAssembler(1000)
    data = stream([b"ok", b"fine"]) + struct.pack(">i", size) + stream([b"never"])
    assert feed(assembler, data, [cut]) == [b"ok", b"fine"]
    assert isinstance(assembler.bad, BadFrameSizeError)
    assert str(size) in str(assembler.bad)


@pytest.mark.kafka
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.lists(frame_sizes, min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 3 * STAGING_BYTES), min_size=1, max_size=6),
)
def test_pipelined_requests_of_every_size_are_answered_in_order(
    served: Served, sizes: list[int], cuts: list[int]
) -> None:
    """ApiVersions v0 requests padded to each size (the body's extra bytes are ignored), sent
    in writes of arbitrary sizes over a real socket: each answered, in order."""
    data = b"".join(request(18, 0, c, b"\x00" * size) for c, size in enumerate(sizes))
    with connect(served) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pos = n = 0
        while pos < len(data):
            step = cuts[n % len(cuts)]
            sock.sendall(data[pos : pos + step])
            pos, n = pos + step, n + 1
        got = [struct.unpack_from(">ih", read_frame(sock)) for _ in sizes]
    assert got == [(c, 0) for c in range(len(sizes))]


class RecordingTransport(asyncio.Transport):
    """A transport that only records whether reading is paused."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = True

    def pause_reading(self) -> None:
        assert self.reading, "paused twice"
        self.reading = False

    def resume_reading(self) -> None:
        assert not self.reading, "resumed twice"
        self.reading = True

    def is_closing(self) -> bool:
        return False


def test_nothing_is_read_while_a_request_is_served() -> None:
    # As Kafka mutes a connection until it has answered: reading stops while a request is
    # served and starts again after, unless too many frames wait already.
    async def scenario() -> None:
        protocol = FrameProtocol(1 << 20, lambda _: None)
        transport = RecordingTransport()
        protocol.connection_made(transport)

        def arrive(count: int) -> None:
            data = stream([b"x" * 10] * count)
            buffer = protocol.get_buffer(len(data))
            buffer[: len(data)] = data
            protocol.buffer_updated(len(data))

        arrive(1)
        await protocol.read_frame()
        protocol.serving(True)
        assert not transport.reading
        protocol.serving(False)
        assert transport.reading
        arrive(MAX_QUEUED_FRAMES)  # the queue is full: reading stops on its own
        assert not transport.reading
        await protocol.read_frame()
        protocol.serving(True)
        protocol.serving(False)
        assert not transport.reading  # still too many waiting
        while len(protocol._frames) > MAX_QUEUED_FRAMES // 2:
            await protocol.read_frame()
        protocol.serving(True)
        protocol.serving(False)
        assert transport.reading

    asyncio.run(scenario())
