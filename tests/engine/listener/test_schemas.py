"""The listener loads every served API version's message classes once it has started, so no
client's first request of a kind waits for a module import."""

from __future__ import annotations

import json
from pathlib import Path

from engine.kafka_listener import messages
from engine.kafka_listener.apis import APIS
from tests.engine.listener.conftest import probe_started_listener

SERVED = [(k, v) for k, api in APIS.items() for v in range(api.min_version, api.max_version + 1)]

_PROBE = """
import json
print(json.dumps(sorted(m for m in sys.modules if m.startswith("kio.schema."))))
"""


def test_every_served_version_but_the_advertised_only_ones_has_a_schema() -> None:
    assert set(SERVED) - set(messages.load_schemas(SERVED)) == {(0, 0), (0, 1), (0, 2)}


def test_a_started_listener_has_loaded_the_classes_no_request_asked_for(tmp_path: Path) -> None:
    # A fresh process: no request has been made, yet e.g. DescribeCluster's classes are there.
    output = probe_started_listener(_PROBE, tmp_path)
    modules = set(json.loads(output.splitlines()[-1]))
    assert "kio.schema.describe_cluster.v0.request" in modules
    assert "kio.schema.delete_records.v2.response" in modules
