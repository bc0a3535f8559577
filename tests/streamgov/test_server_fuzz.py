"""Property-based fuzzing of the registry's REST API from its own `/openapi.json`: whatever a
client sends, the answer is never a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from engine.embedded import EmbeddedCluster
from registry.api import REGISTRY_PREFIXES
from streamgov.server import create_app

REGISTRY_PATHS = "^(" + "|".join(REGISTRY_PREFIXES) + ")"


@pytest.fixture(scope="module")
def registry_openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cluster = EmbeddedCluster(Path(tmp_path_factory.mktemp("fuzz")), name="fuzz")
    app = create_app(cluster)
    client = app.state.schema_registry
    # something to find, so lookups and deletes reach past "not found"
    client.register("fuzz-value", {"schema": '{"type":"record","name":"F","fields":[]}'})
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.services.close()
    cluster.close()


schema = schemathesis.pytest.from_fixture("registry_openapi").include(path_regex=REGISTRY_PATHS)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_gets_a_server_error(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
