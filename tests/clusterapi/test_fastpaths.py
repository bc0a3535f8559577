"""The raw fast path of `GET .../records` answers exactly as the FastAPI route does.

A differential test: the same requests against an application serving the route alone (the
reference) and against the mounted API with its fast path, comparing status, headers and
body bytes, for good and bad inputs. The table also says which requests the fast path serves
itself (the rest it leaves to the route), so a change that quietly sends every request down
the slow path fails here too. With `--auth`, authentication, authorization and the rate limit
still come first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.rest import AuthMiddleware
from acl.service import AccessControl
from clusterapi import build_router, mount
from clusterapi.fastpaths import browse_fast
from clusterapi.routes import AdminContext
from engine.embedded import EmbeddedCluster
from engine.types import Record
from httpapi import ServerSettings, install_fallback
from httpapi.fastpath import FastPathMiddleware
from streamgov.server import create_app, serve_in_thread

CLUSTER = "c1"
RECORDS = f"/v3/clusters/{CLUSTER}/topics/t/partitions/0/records"


def reference_app(cluster: EmbeddedCluster) -> FastAPI:
    """The `/v3` routes with no fast path: what FastAPI alone answers."""
    app = FastAPI()
    app.state.cluster_admin = AdminContext(cluster)
    app.include_router(build_router(4 * 1024 * 1024))
    install_fallback(app)
    return app


def fast_app(cluster: EmbeddedCluster) -> FastAPI:
    app = FastAPI()
    mount(app, cluster, ServerSettings())
    install_fallback(app)
    return app


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    directory = tmp_path_factory.mktemp("fastpaths")
    with EmbeddedCluster(directory, name=CLUSTER, maintenance_interval_s=None) as c:
        c.create_topic("t", 2)
        c.create_topic("empty", 1)
        c.create_topic("_internal", 1)
        records = [
            Record(
                value=None if i % 17 == 0 else f'{{"n": {i}, "s": "é\\u0001"}}'.encode(),
                key=None if i % 5 == 0 else bytes([i % 256, 0, 255]),
                headers=() if i % 3 else (("h", b"1"), ('q"\\\n', bytes(range(i % 7)))),
                timestamp_ms=1_700_000_000_000 + 10 * i,
                partition=0,
            )
            for i in range(250)
        ]
        c.produce("t", records)
        c.produce("_internal", [Record(value=b"x", partition=0)])
        yield c


@pytest.fixture(scope="module")
def clients(cluster: EmbeddedCluster) -> Iterator[tuple[TestClient, TestClient, FastAPI]]:
    app = fast_app(cluster)
    with TestClient(reference_app(cluster)) as reference, TestClient(app) as fast:
        yield reference, fast, app


def served_fast(app: FastAPI, path: str, query: str) -> bool:
    """Whether the fast path answers this request itself (rather than leaving it)."""
    [middleware] = [m for m in app.user_middleware if m.cls is FastPathMiddleware]
    [(pattern, _)] = middleware.kwargs["routes"]
    match = pattern.match(path)
    if match is None:
        return False
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
        "app": app,
    }
    try:
        return asyncio.run(browse_fast(Request(scope), match.groupdict())) is not None
    except Exception:
        return False


LONG = "x" * 250
#: (path, query, whether the fast path answers it itself)
CASES: list[tuple[str, str, bool]] = [
    (RECORDS, "", True),
    (RECORDS, "limit=3", True),
    (RECORDS, "offset=5&limit=3", True),
    (RECORDS, "offset=007&limit=010", True),
    (RECORDS, "offset=240", True),
    (RECORDS, "offset=9999", True),  # clamped to the end: an empty page
    (RECORDS, "offset=9007199254740992", True),  # MAX_JSON_INT
    (RECORDS, "position=latest&limit=4", True),
    (RECORDS, "position=earliest&limit=1", True),
    (RECORDS, "timestamp=1700000000500&limit=2", True),
    (RECORDS, "timestamp=2023-11-14T22:13:21Z&limit=2", True),
    (RECORDS, "limit=1000", True),  # read in the thread pool
    (RECORDS, "limit=101&offset=100", True),
    (RECORDS, "offset=%31%32&limit=2", True),  # percent-encoded digits
    (RECORDS, "foo=bar&limit=2", True),  # unknown parameters are ignored, as the route does
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/1/records", "", True),  # empty partition
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/00/records", "limit=1", True),
    (f"/v3/clusters/{CLUSTER}/topics/empty/partitions/0/records", "position=latest", True),
    (f"/v3/clusters/{CLUSTER}/topics/_internal/partitions/0/records", "", True),
    # errors of the read: left to the route
    ("/v3/clusters/other/topics/t/partitions/0/records", "", False),
    (f"/v3/clusters/{CLUSTER}/topics/nope/partitions/0/records", "", False),
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/9/records", "", False),
    (RECORDS, "offset=1&position=latest", False),
    (RECORDS, "offset=1&timestamp=5", False),
    (RECORDS, "timestamp=yesterday", False),
    (RECORDS, "timestamp=" + "9" * 30, False),
    # parameters outside the plain forms: left to the route
    (RECORDS, "offset=-1", False),
    (RECORDS, "offset=+1", False),
    (RECORDS, "offset=", False),
    (RECORDS, "offset=1.0", False),
    (RECORDS, "offset=%201", False),
    (RECORDS, "offset=abc", False),
    (RECORDS, "offset=9007199254740993", False),
    (RECORDS, "offset=99999999999999999999999", False),
    (RECORDS, "offset=1&offset=2", False),
    (RECORDS, "limit=0", False),
    (RECORDS, "limit=1001", False),
    (RECORDS, "limit=", False),
    (RECORDS, "position=middle", False),
    (RECORDS, "position=LATEST", False),
    (RECORDS, "timestamp=", False),
    (RECORDS, "timestamp=" + "1" * 65, False),
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/-1/records", "", False),
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/2147483648/records", "", False),
    (f"/v3/clusters/{CLUSTER}/topics/t/partitions/x/records", "", False),
    (f"/v3/clusters/{CLUSTER}/topics/{LONG}/partitions/0/records", "", False),
    (f"/v3/clusters/{'c' * 256}/topics/t/partitions/0/records", "", False),
    (f"{RECORDS}/", "", False),  # not the route's path
]


def same_answer(reference: TestClient, fast: TestClient, path: str, query: str) -> httpx.Response:
    url = f"{path}?{query}" if query else path
    expected, got = reference.get(url), fast.get(url)
    assert (got.status_code, got.headers.raw, got.content) == (
        expected.status_code,
        expected.headers.raw,
        expected.content,
    ), url
    return got


@pytest.mark.parametrize(("path", "query", "fast"), CASES)
def test_fast_path_answers_as_the_route(
    clients: tuple[TestClient, TestClient, FastAPI], path: str, query: str, fast: bool
) -> None:
    reference, fast_client, app = clients
    answer = same_answer(reference, fast_client, path, query)
    assert served_fast(app, path, query) is fast
    if fast:
        assert answer.status_code == 200


_PIECES = st.sampled_from(
    ["offset", "limit", "position", "timestamp", "x", "offset[]", "LIMIT", ""]
)
_VALUES = st.sampled_from(
    [
        *("", "0", "1", "3", "007", "-2", "+4", "99", "100", "249", "250", "1000", "1001", "1e2"),
        *("latest", "earliest", "1700000000100", "2023-11-14T22:13:20.050Z", " 5", "%35", "\u0665"),
    ]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_PIECES, _VALUES), max_size=4), st.sampled_from(["0", "1", "01", "2"]))
def test_any_query_gets_the_routes_answer(
    clients: tuple[TestClient, TestClient, FastAPI], pairs: list[tuple[str, str]], partition: str
) -> None:
    reference, fast, _ = clients
    query = "&".join(f"{name}={value}" for name, value in pairs)
    path = f"/v3/clusters/{CLUSTER}/topics/t/partitions/{partition}/records"
    same_answer(reference, fast, path, query)


def test_fast_path_sits_inside_the_auth_middleware(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, name=CLUSTER, maintenance_interval_s=None) as cluster:
        app = create_app(cluster, ServerSettings(auth=True, super_users=("User:admin",)))
        try:
            kinds = [m.cls for m in app.user_middleware]
            assert kinds.index(AuthMiddleware) < kinds.index(FastPathMiddleware)
        finally:
            app.state.services.close()


@pytest.fixture()
def secured(tmp_path: Path) -> Iterator[str]:
    cluster = EmbeddedCluster(tmp_path, name=CLUSTER, maintenance_interval_s=None)
    cluster.create_topic("t", 1)
    cluster.produce("t", [Record(value=b"v", partition=0)])
    setup = AccessControl(cluster).start()
    for user in ("reader", "stranger"):
        setup.add_user(user, f"{user}-pw")
    setup.add(
        [
            Acl(
                ResourceType.TOPIC,
                "t",
                PatternType.LITERAL,
                "User:reader",
                "*",
                Operation.READ,
                Permission.ALLOW,
            )
        ]
    )
    setup.close()
    settings = ServerSettings(auth=True, super_users=("User:admin",), rest_rate_limit=0.001)
    app = create_app(cluster, settings)
    try:
        with serve_in_thread(app) as url:
            yield url
    finally:
        app.state.services.close()
        cluster.close()


def test_fast_path_keeps_authentication_authorization_and_rate_limit(secured: str) -> None:
    url = f"{secured}{RECORDS}?limit=1"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == 40101
    refused = httpx.get(url, auth=("stranger", "stranger-pw"))
    assert refused.status_code == 403
    assert refused.json() == {"error_code": 40301, "message": "User:stranger may not READ TOPIC t"}
    # A burst of one request, then a token every 1,000 s: the second request is over it.
    first, second = (httpx.get(url, auth=("reader", "reader-pw")) for _ in range(2))
    assert first.status_code == 200
    assert first.json()["data"][0]["value"]["data"] == "dg=="
    assert second.status_code == 429
    assert second.json()["error_code"] == 42901
