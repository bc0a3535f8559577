"""`FrameConnection`: a connection's size-prefixed request frames, read with as few copies as
the socket allows, and its responses written with flow control.

asyncio's `StreamReader` copies every byte it receives into its buffer and once more into the
bytes `readexactly` returns. This protocol reads into a staging buffer instead, and a frame
larger than what is staged gets a buffer of its own that the socket fills directly: a produce
request of a megabyte is copied once on its way in (small frames once out of the staging
buffer). It is an `asyncio.BufferedProtocol`, so it works the same over plain TCP and TLS.
"""

from __future__ import annotations

import asyncio
import collections
import struct
from collections.abc import Callable
from typing import Any

#: The staging buffer; frames over half of it are read into a buffer of their own.
STAGING_BYTES = 256 * 1024
#: Reading pauses while this many whole frames wait to be served (clients pipeline up to 5).
MAX_QUEUED_FRAMES = 16
_SIZE = struct.Struct(">i")
#: The staged bytes move to the front when less room than this is left behind them.
_MIN_READ = 64 * 1024


class OversizeFrameError(Exception):
    """A frame's size is not positive or over the limit (Kafka closes the connection)."""


class FrameConnection(asyncio.BufferedProtocol):
    """The protocol of one connection: `read_frame` gives request frames in order, `write`
    and `drain` send answers. Reading pauses while `MAX_QUEUED_FRAMES` frames wait.

    A frame is `bytes`, or a read-only memoryview of the buffer a large frame was read into
    (kio's readers and `struct` take either)."""

    def __init__(self, max_frame_bytes: int, on_made: Callable[[FrameConnection], object]) -> None:
        """`on_made` is called with the protocol once the connection is made (after the TLS
        handshake, over TLS)."""
        self.max_frame_bytes = max_frame_bytes
        self._on_made = on_made
        self.transport: asyncio.Transport | None = None
        self._staging = bytearray(STAGING_BYTES)
        self._start = 0  # staged bytes not yet taken start here ...
        self._end = 0  # ... and end here
        self._large: bytearray | None = None  # the frame being filled straight from the socket
        self._filled = 0
        self._frames: collections.deque[bytes | memoryview] = collections.deque()
        self._error: BaseException | None = None
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- asyncio's side ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._on_made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._large is not None:
            return memoryview(self._large)[self._filled :]
        if len(self._staging) - self._end < _MIN_READ and self._start > 0:
            self._compact()
        return memoryview(self._staging)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._large is not None:
            self._filled += nbytes
            if self._filled == len(self._large):
                self._frames.append(memoryview(self._large).toreadonly())
                self._large = None
        else:
            self._end += nbytes
        try:
            self._take_frames()
        except OversizeFrameError as exc:
            self._fail(exc)
            return
        if self._frames:
            self._wake()
        if len(self._frames) >= MAX_QUEUED_FRAMES:
            self._pause()

    def eof_received(self) -> bool | None:
        self._fail(ConnectionResetError("the client closed the connection"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionResetError("the connection is closed"))
        if not self.closed.done():
            self.closed.set_result(None)
        self._write_paused = False
        self._release_drain()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._release_drain()

    # -- the server's side ---------------------------------------------------------------------

    async def read_frame(self) -> bytes | memoryview:
        """The next request frame (without its size); raises the error that ended the
        connection (`OversizeFrameError`, `ConnectionError`) once no frame is left."""
        while not self._frames:
            if self._error is not None:
                raise self._error
            self._resume()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()

    def write(self, data: bytes) -> None:
        """Send `data` (queued by the transport when the socket is full)."""
        assert self.transport is not None
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self._closed_for_writing():
            raise ConnectionResetError("the connection is closed")
        if not self._write_paused:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._drain_waiter
        finally:
            self._drain_waiter = None

    def extra(self, name: str) -> Any:
        """The transport's extra information `name` (peername, socket, ssl_object)."""
        return self.transport.get_extra_info(name) if self.transport is not None else None

    def close(self) -> None:
        """Close the connection (pending writes are flushed first)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- internals -----------------------------------------------------------------------------

    def _take_frames(self) -> None:
        """Move every complete staged frame to the queue; a frame larger than what is staged
        gets its own buffer, with what arrived of it so far."""
        staging = self._staging
        while self._end - self._start >= 4:
            (size,) = _SIZE.unpack_from(staging, self._start)
            if size <= 0 or size > self.max_frame_bytes:
                raise OversizeFrameError(f"a frame of {size} bytes")
            body = self._start + 4
            if self._end - body >= size:
                self._frames.append(bytes(memoryview(staging)[body : body + size]))
                self._start = body + size
                continue
            if size > len(staging) // 2:
                have = self._end - body
                self._large = bytearray(size)
                self._large[:have] = memoryview(staging)[body : self._end]
                self._filled = have
                self._start = self._end = 0
            break
        if self._start == self._end:
            self._start = self._end = 0

    def _compact(self) -> None:
        """Move the staged bytes not yet taken to the front of the staging buffer."""
        pending = self._end - self._start
        self._staging[:pending] = memoryview(self._staging)[self._start : self._end]
        self._start, self._end = 0, pending

    def _pause(self) -> None:
        if not self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = True
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = False
            self.transport.resume_reading()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc
        self._pause()  # nothing more is read once the connection has failed
        self._wake()

    def _closed_for_writing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _release_drain(self) -> None:
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
