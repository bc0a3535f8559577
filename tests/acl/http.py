"""The HTTP client the access-control tests send their requests with."""

from __future__ import annotations

import httpx

#: A generous timeout: httpx's default of 5 s is a deadline that a loaded machine can miss
#: (a registry write fsyncs), and the tests judge behaviour, not time. No connection is kept
#: alive, since each test starts its own server and a later one may reuse a port.
http = httpx.Client(timeout=60.0, limits=httpx.Limits(max_keepalive_connections=0))
