"""Every router of the assembled server answers every failure in one JSON shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from streamgov.server import COMPONENTS, ServerSettings, create_app, load_mount


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    cluster = EmbeddedCluster(Path(tmp_path_factory.mktemp("shape")), name="shape")
    settings = ServerSettings(lag_interval_seconds=3600, max_request_bytes=10_000)
    app = create_app(cluster, settings)
    with TestClient(app, base_url="http://localhost") as client:
        yield client
    app.state.services.close()
    cluster.close()


def assert_shape(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "text")  # noqa: B009
    body: dict[str, object] = getattr(response, "json")()  # noqa: B009
    assert set(body) == {"error_code", "message"}
    assert isinstance(body["error_code"], int) and str(body["error_code"]).startswith(str(status))
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_the_server_is_assembled_from_the_component_list() -> None:
    assert COMPONENTS[0] == "registry.api:mount"  # the hottest paths are matched first
    assert {"clusterapi:mount", "lagmonitor.api:mount"} <= set(COMPONENTS)
    assert all(callable(load_mount(spec)) for spec in COMPONENTS)


def test_root_answers_an_empty_object_like_confluents_registry(api: TestClient) -> None:
    response = api.get("/")
    assert response.status_code == 200 and response.json() == {}


@pytest.mark.parametrize(
    "path", ["/nope", "/v3/nope", "/lag/nope/x", "/metrics/x", "/subjects/a/b/c/d/e", "/v4"]
)
def test_unknown_paths_are_404_in_the_shape(api: TestClient, path: str) -> None:
    assert_shape(api.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/", {"GET"}),
        ("PUT", "/subjects", {"GET"}),
        ("PATCH", "/config", {"GET", "PUT", "DELETE"}),
        ("PUT", "/subjects/s/versions", {"GET", "POST"}),
        ("DELETE", "/v3/clusters", {"GET"}),
        ("PUT", "/v3/clusters/shape/topics", {"GET", "POST"}),
        ("POST", "/lag/groups", {"GET"}),
        ("DELETE", "/metrics", {"GET"}),
    ],
)
def test_405_names_every_method_of_the_path(
    api: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = api.request(method, path)
    assert_shape(response, 405)
    assert set(response.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize("path", ["/subjects/s/versions", "/v3/clusters/shape/topics"])
def test_bodies_over_the_limit_are_413(api: TestClient, path: str) -> None:
    body = b'{"schema": "' + b"x" * 20_000 + b'"}'
    headers = {"Content-Type": "application/json"}
    assert_shape(api.post(path, content=body, headers=headers), 413)


@pytest.mark.parametrize("path", ["/subjects/s/versions", "/v3/clusters/shape/topics"])
def test_unreadable_json_is_400(api: TestClient, path: str) -> None:
    headers = {"Content-Type": "application/json"}
    assert_shape(api.post(path, content=b"{nope", headers=headers), 400)


@pytest.mark.parametrize("path", ["/subjects/s/versions", "/v3/clusters/shape/topics"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_unaccepted_content_types_are_415(api: TestClient, path: str, content_type: str) -> None:
    body = b'{"topic_name": "t", "schema": "\\"int\\""}'
    assert_shape(api.post(path, content=body, headers={"Content-Type": content_type}), 415)
    assert api.get("/v3/clusters/shape/topics/t").status_code == 404


def test_invalid_parameters_are_422_in_the_shape(api: TestClient) -> None:
    assert_shape(api.get("/v3/clusters/shape/topics/t/partitions/-1"), 422)
    assert_shape(api.get("/schemas/ids/x"), 422)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8081", "localhost.evil.example"])
def test_a_host_header_naming_another_site_is_refused(api: TestClient, host: str) -> None:
    """DNS rebinding: a page on another name pointed at this server must get nothing."""
    body = assert_shape(api.get("/subjects", headers={"Host": host}), 400)
    assert "--allowed-host" in str(body["message"])


@pytest.mark.parametrize("host", ["localhost", "localhost:8081", "127.0.0.1:8081", "[::1]:8081"])
def test_local_names_and_addresses_are_served(api: TestClient, host: str) -> None:
    assert api.get("/subjects", headers={"Host": host}).status_code == 200
