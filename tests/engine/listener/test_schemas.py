"""The listener loads every served API version's message classes once it has started, so no
client's first request of a kind waits for a module import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.kafka_listener import messages
from engine.kafka_listener.apis import APIS

SERVED = [(k, v) for k, api in APIS.items() for v in range(api.min_version, api.max_version + 1)]

_PROBE = """
import json, sys
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
cluster = EmbeddedCluster(sys.argv[1], maintenance_interval_s=None)
listener = KafkaListener(cluster, "127.0.0.1", 0).start()
assert listener.schemas_loaded.wait(120)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("kio.schema."))))
listener.stop()
cluster.close()
"""


def test_every_served_version_but_the_advertised_only_ones_has_a_schema() -> None:
    assert set(SERVED) - set(messages.load_schemas(SERVED)) == {(0, 0), (0, 1), (0, 2)}


def test_a_started_listener_has_loaded_the_classes_no_request_asked_for(tmp_path: Path) -> None:
    # A fresh process: no request has been made, yet e.g. DescribeCluster's classes are there.
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    modules = set(json.loads(result.stdout.splitlines()[-1]))
    assert "kio.schema.describe_cluster.v0.request" in modules
    assert "kio.schema.delete_records.v2.response" in modules
