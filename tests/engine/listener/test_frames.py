"""`FrameConnection` against the obvious model of Kafka framing: however the bytes of a stream
of size-prefixed frames are cut into reads, the frames come out whole, in order and unchanged,
small ones and ones larger than the staging buffer alike; a bad size ends the connection."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.kafka_listener.frames import (
    MAX_QUEUED_FRAMES,
    STAGING_BYTES,
    FrameConnection,
    OversizeFrameError,
)


class _Transport(asyncio.Transport):
    """Records what the protocol asks of its transport (no socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.closing = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def stream(frames: list[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(f)) + f for f in frames)


def feed(protocol: FrameConnection, data: bytes, cuts: list[int]) -> None:
    """Hand `data` to the protocol as asyncio would, in reads of at most the given sizes."""
    pos, n = 0, 0
    while pos < len(data):
        want = cuts[n % len(cuts)] if cuts else len(data)
        n += 1
        buffer = protocol.get_buffer(-1)
        take = min(want, len(buffer), len(data) - pos)
        assert take > 0, "the protocol offered no room to read into"
        buffer[:take] = data[pos : pos + take]
        protocol.buffer_updated(take)
        pos += take


frame_sizes = st.one_of(
    st.integers(1, 300),
    st.integers(STAGING_BYTES // 2 - 8, STAGING_BYTES // 2 + 8),
    st.integers(STAGING_BYTES, 3 * STAGING_BYTES),
)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(frame_sizes, min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 2 * STAGING_BYTES), max_size=8),
    seed=st.integers(0, 255),
)
def test_frames_come_out_whole_and_in_order_however_the_reads_fall(
    sizes: list[int], cuts: list[int], seed: int
) -> None:
    frames = [bytes([(seed + i) % 256]) * size for i, size in enumerate(sizes)]
    for i, frame in enumerate(frames):  # make each frame's bytes differ along its length
        frames[i] = frame[:-4] + struct.pack(">i", i) if len(frame) >= 4 else frame

    async def run() -> list[bytes]:
        made: list[FrameConnection] = []
        protocol = FrameConnection(1 << 30, made.append)
        protocol.connection_made(_Transport())
        assert made == [protocol]
        got: list[bytes] = []
        data = stream(frames)
        # Read frames as they complete, as the server does between reads.
        pos = 0
        chunk = max(1, len(data) // 3)
        while pos < len(data):
            feed(protocol, data[pos : pos + chunk], cuts)
            pos += chunk
            while protocol._frames:
                got.append(bytes(await protocol.read_frame()))
        protocol.connection_lost(None)
        with pytest.raises(ConnectionError):
            await protocol.read_frame()
        return got

    assert asyncio.run(run()) == frames


def test_reading_pauses_while_frames_wait_and_resumes_when_they_are_taken() -> None:
    async def run() -> None:
        protocol = FrameConnection(1 << 20, lambda _: None)
        transport = _Transport()
        protocol.connection_made(transport)
        feed(protocol, stream([b"x"] * MAX_QUEUED_FRAMES), [])
        assert transport.paused
        for _ in range(MAX_QUEUED_FRAMES):
            assert await protocol.read_frame() == b"x"
        waiting = asyncio.ensure_future(protocol.read_frame())
        await asyncio.sleep(0)
        assert not transport.paused
        feed(protocol, stream([b"y"]), [])
        assert await waiting == b"y"

    asyncio.run(run())


@pytest.mark.parametrize("size", [0, -1, 1001])
def test_a_bad_size_ends_the_connection_after_the_frames_before_it(size: int) -> None:
    async def run() -> None:
        protocol = FrameConnection(1000, lambda _: None)
        protocol.connection_made(_Transport())
        feed(protocol, stream([b"ok"]) + struct.pack(">i", size) + b"zz", [3])
        assert await protocol.read_frame() == b"ok"
        with pytest.raises(OversizeFrameError):
            await protocol.read_frame()

    asyncio.run(run())
