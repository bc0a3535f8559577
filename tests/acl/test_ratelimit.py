"""Per-principal REST rate limits: the token bucket on a manual clock, and 429 with
Retry-After from a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from acl.ratelimit import RateLimiter
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.acl.http import http


def test_bucket_admits_bursts_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, burst=3, clock=lambda: now[0])
    assert [limiter.admit("User:a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.admit("User:a") == pytest.approx(0.5)
    assert limiter.admit("User:b") == 0.0  # buckets are per principal
    now[0] = 0.5
    assert limiter.admit("User:a") == 0.0
    assert limiter.admit("User:a") == pytest.approx(0.5)
    now[0] = 100.0
    assert [limiter.admit("User:a") for _ in range(4)][-1] > 0  # never more than the burst
    assert RateLimiter.retry_after(0.2) == "1" and RateLimiter.retry_after(2.1) == "3"


def test_server_answers_429_with_retry_after(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "c", name="limited")
    setup = AccessControl(cluster).start()
    setup.add_user("admin", "admin-pw")
    setup.close()
    settings = ServerSettings(auth=True, super_users=("User:admin",), rest_rate_limit=0.01)
    app = create_app(cluster, settings)
    try:
        with serve_in_thread(app) as url:
            first = http.get(f"{url}/subjects", auth=("admin", "admin-pw"))
            assert first.status_code == 200
            second = http.get(f"{url}/subjects", auth=("admin", "admin-pw"))
            assert second.status_code == 429
            assert second.json()["error_code"] == 42901
            assert int(second.headers["retry-after"]) >= 1
    finally:
        app.state.services.close()
        cluster.close()
