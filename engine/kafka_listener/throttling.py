"""Client quotas on the listener: each request's usage is recorded with the broker's
`ClientQuotas`, and a client over its quota is throttled as Kafka throttles it (KIP-219).

- Produce records the request's size against `producer_byte_rate`; Fetch records the
  response's size against `consumer_byte_rate` and never asks for more than one quota
  window's worth. Every request records its handling time (time spent waiting for records
  to arrive in a long poll excluded) against `request_percentage`; Produce with acks=0 is
  exempt from that one, as in Kafka.
- The answer goes out at once carrying `throttle_time_ms` (the larger of the byte and the
  request throttle), then the connection is muted: nothing more is read from it for that
  long. Clients from Produce v6 and Fetch v8 on also hold back by themselves; older ones are
  held back by the mute alone. A throttled Fetch is answered empty and its bytes are taken
  back from the rate, as Kafka does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from engine.auth import CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE
from engine.kafka_listener import errors, messages
from engine.kafka_listener.context import Connection, Request

if TYPE_CHECKING:
    from engine.kafka_listener.broker import Broker

PRODUCE_KEY = 0
FETCH_KEY = 1
#: requests quotas never throttle: the handshake before a client knows who it is
EXEMPT_KEYS = frozenset({17, 18, 36})
#: the connection state entry holding how long to mute the connection after this answer (s)
MUTE = "quota.mute_s"

_IDLE: ContextVar[list[float] | None] = ContextVar("quota_idle", default=None)

Handler = Callable[["Broker", Connection, Request], Awaitable[Any]]


@contextlib.contextmanager
def idle() -> Iterator[None]:
    """Time spent in the block is waiting, not handling (a long poll for records)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        spent = _IDLE.get()
        if spent is not None:
            spent[0] += time.perf_counter() - started


def _with_throttle(reply: Any, throttle_ms: int) -> Any:
    if isinstance(reply, dict):
        return {**reply, "throttle_time": throttle_ms}
    if dataclasses.is_dataclass(reply) and any(
        f.name == "throttle_time" for f in dataclasses.fields(reply)
    ):
        return dataclasses.replace(  # type: ignore[type-var]
            reply, throttle_time=datetime.timedelta(milliseconds=throttle_ms)
        )
    return reply


def _capped_fetch(request: Request, limit: float | None) -> Request:
    """The fetch asking for at most one quota window's bytes (Kafka's
    getMaxValueInQuotaWindow)."""
    if limit is None:
        return request
    cap = max(int(limit), 1)
    body = request.body
    if 0 < body.max_bytes <= cap:
        return request
    return dataclasses.replace(request, body=dataclasses.replace(body, max_bytes=cap))


async def answer(
    broker: Broker, conn: Connection, request: Request, handler: Handler, request_size: int
) -> bytes | None:
    """Handle the request under the client's quotas; the response frame (None for none) and,
    when throttled, the mute recorded in `conn.state[MUTE]`."""
    quotas = broker.quotas
    assert quotas is not None
    principal, client_id, key = conn.principal, request.client_id or "", request.api_key
    if key == FETCH_KEY:
        limit = quotas.window_limit(principal, client_id, CONSUMER_BYTE_RATE)
        request = _capped_fetch(request, limit)
    spent = [0.0]
    token = _IDLE.set(spent)
    started = time.perf_counter()
    try:
        reply = await handler(broker, conn, request)
    finally:
        _IDLE.reset(token)
    busy_s = max(time.perf_counter() - started - spent[0], 0.0)
    now_ms = time.monotonic() * 1000.0
    throttle = 0
    if not (key == PRODUCE_KEY and reply is None):
        throttle = quotas.record(principal, client_id, REQUEST_PERCENTAGE, busy_s * 100, now_ms)
    if key == PRODUCE_KEY:
        sent = quotas.record(principal, client_id, PRODUCER_BYTE_RATE, request_size, now_ms)
        throttle = max(throttle, sent)
    frame = None if reply is None else _encode(request, reply)
    if key == FETCH_KEY and frame is not None:
        size = len(frame)
        fetched = quotas.record(principal, client_id, CONSUMER_BYTE_RATE, size, now_ms)
        throttle = max(throttle, fetched)
        if throttle > 0:
            quotas.unrecord(principal, client_id, CONSUMER_BYTE_RATE, size, now_ms)
            reply = {"error_code": errors.NONE, "session_id": 0, "responses": []}
    if throttle > 0:
        conn.state[MUTE] = throttle / 1000.0
        if reply is not None:
            frame = _encode(request, _with_throttle(reply, throttle))
    return frame


def _encode(request: Request, reply: Any) -> bytes:
    return messages.encode_response(
        request.api_key, request.api_version, request.correlation_id, reply
    )


async def mute(conn: Connection) -> None:
    """Read nothing more from the connection for the throttle its last answer carried."""
    delay = conn.state.pop(MUTE, 0.0)
    if delay > 0:
        await asyncio.sleep(delay)
