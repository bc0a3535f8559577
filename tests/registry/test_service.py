"""The registry service over the state log: read-your-writes across instances, the sync
policy, replay after restart, and instances that always converge on the same state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from engine.embedded import EmbeddedCluster
from registry import errors
from registry.formats.base import SchemaReference
from registry.service import SchemaRegistry, parse_version

Json = Any


def compact(text: str) -> str:
    """How the registry answers a schema written in Avro's key order: compact."""
    return json.dumps(json.loads(text), separators=(",", ":"))


def record(name: str, *fields: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "fields": [{"name": f, "type": "int", "default": 0} for f in fields],
        }
    )


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[SchemaRegistry]:
    with EmbeddedCluster(tmp_path, name="svc") as cluster:
        registry = SchemaRegistry(cluster).start()
        yield registry
        registry.close()


@pytest.fixture()
def pair(tmp_path: Path) -> Iterator[tuple[SchemaRegistry, SchemaRegistry]]:
    clusters = [EmbeddedCluster(tmp_path, name="svc") for _ in range(2)]
    registries = [SchemaRegistry(cluster).start() for cluster in clusters]
    yield registries[0], registries[1]
    for registry, cluster in zip(registries, clusters, strict=True):
        registry.close()
        cluster.close()


def test_parse_version() -> None:
    assert parse_version("latest") == "latest"
    assert parse_version("-1") == "latest"
    assert parse_version("7") == 7
    for bad in ("0", "x", "2147483648", "-3"):
        with pytest.raises(errors.RegistryError) as excinfo:
            parse_version(bad)
        assert excinfo.value.error_code == errors.INVALID_VERSION


def test_a_write_through_one_instance_is_read_through_the_other(
    pair: tuple[SchemaRegistry, SchemaRegistry],
) -> None:
    a, b = pair
    schema_id = a.register("orders-value", {"schema": record("Order", "id")})["id"]
    assert b.get_version("orders-value", "latest")["id"] == schema_id
    assert b.subjects() == ["orders-value"]
    a.set_config("orders-value", {"compatibility": "FULL"})
    assert b.get_config("orders-value") == {"compatibilityLevel": "FULL"}


def test_reads_by_id_answer_from_memory_and_catch_up_only_on_a_miss(
    pair: tuple[SchemaRegistry, SchemaRegistry],
) -> None:
    a, b = pair
    schema_id = a.register("s", {"schema": record("A", "x")})["id"]
    assert b.peek_schema_by_id(schema_id) is None, "b has not read the log yet"
    assert b.schema_by_id(schema_id)["schema"] == compact(record("A", "x"))
    cached = b.peek_schema_by_id(schema_id)
    assert cached is not None and json.loads(cached[1]) == cached[0]
    with pytest.raises(errors.RegistryError) as excinfo:
        b.schema_by_id(12345)
    assert excinfo.value.error_code == errors.SCHEMA_NOT_FOUND


def test_a_stale_instance_accepts_references_made_elsewhere(
    pair: tuple[SchemaRegistry, SchemaRegistry],
) -> None:
    a, b = pair
    b.subjects()  # b is now "warm" but will miss what a does next
    a.register("addr", {"schema": record("Address", "zip")})
    user = json.dumps(
        {"type": "record", "name": "User", "fields": [{"name": "home", "type": "Address"}]}
    )
    out = b.register(
        "user",
        {"schema": user, "references": [{"name": "Address", "subject": "addr", "version": 1}]},
    )
    assert a.referenced_by("addr", 1) == [out["id"]]


def test_concurrent_registrations_converge_on_one_state(
    pair: tuple[SchemaRegistry, SchemaRegistry],
) -> None:
    a, b = pair
    a.set_config(None, {"compatibility": "BACKWARD"})
    schemas = [record("E", *[f"f{j}" for j in range(i + 1)]) for i in range(6)]
    jobs = [(inst, schema) for schema in schemas for inst in (a, b)]

    def register(job: tuple[SchemaRegistry, str]) -> int:
        return int(job[0].register("evolving", {"schema": job[1]})["id"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(register, jobs))
    for i in range(0, len(ids), 2):
        assert ids[i] == ids[i + 1], "the same schema got two ids"
    assert len(set(ids)) == len(schemas)
    a.sync()
    b.sync()
    with a.lock, b.lock:
        assert a.state == b.state


def test_state_survives_a_restart(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path, name="restart")
    first = SchemaRegistry(cluster).start()
    ids = [first.register(f"s{i}", {"schema": record(f"R{i}", "a")})["id"] for i in range(5)]
    first.delete_subject("s0")
    first.close()
    cluster.close()
    cluster = EmbeddedCluster(tmp_path, name="restart")
    second = SchemaRegistry(cluster).start()
    assert second.subjects() == ["s1", "s2", "s3", "s4"]
    assert [second.get_version(f"s{i}", 1)["id"] for i in range(1, 5)] == ids[1:]
    assert second.schema_by_id(ids[0])["schema"] == compact(record("R0", "a"))
    second.close()
    cluster.close()


def test_empty_schema_reuses_the_latest_version(
    pair: tuple[SchemaRegistry, SchemaRegistry],
) -> None:
    a, _ = pair
    first = a.register("s", {"schema": record("A", "x")})["id"]
    assert a.register("s", {"schema": ""})["id"] == first
    with pytest.raises(errors.RegistryError) as excinfo:
        a.register("nothing-here", {})
    assert excinfo.value.error_code == errors.INVALID_SCHEMA


def test_a_readonly_instance_serves_reads_and_refuses_writes(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path, name="ro")
    writer = SchemaRegistry(cluster).start()
    schema_id = writer.register("s", {"schema": record("A", "x")})["id"]
    reader = SchemaRegistry(cluster, readonly=True).start()
    assert reader.schema_by_id(schema_id)["schema"] == compact(record("A", "x"))
    assert reader.lookup("s", {"schema": record("A", "x")})["id"] == schema_id
    assert reader.test_compatibility("s", {"schema": record("A", "x", "y")}) == {
        "is_compatible": True
    }
    for write in (
        lambda: reader.register("s", {"schema": record("B", "y")}),
        lambda: reader.delete_subject("s"),
        lambda: reader.set_config(None, {"compatibility": "NONE"}),
    ):
        with pytest.raises(errors.RegistryError) as excinfo:
            write()
        assert excinfo.value.error_code == errors.OPERATION_NOT_PERMITTED
    writer.close()
    reader.close()
    cluster.close()


# -- reference graphs (shared references are resolved once each) ----------------------------------
def layered_graph(registry: SchemaRegistry, width: int, depth: int) -> list[dict[str, Json]]:
    """Register `depth` layers of `width` records, each referencing every record of the layer
    below; returns the references to the top layer."""
    below: list[dict[str, Json]] = []
    for layer in range(depth):
        current = []
        for j in range(width):
            name = f"L{layer}_{j}"
            fields = [{"name": f"f{i}", "type": ref["name"]} for i, ref in enumerate(below)]
            schema = {
                "type": "record",
                "name": name,
                "fields": fields or [{"name": "x", "type": "int"}],
            }
            subject = f"graph-{name}"
            registry.register(subject, {"schema": json.dumps(schema), "references": below})
            current.append({"name": name, "subject": subject, "version": 1})
        below = current
    return below


class CountingSubjects(dict):  # type: ignore[type-arg]
    """The subjects map, counting lookups."""

    lookups = 0

    def get(self, key: Any, default: Any = None) -> Any:
        CountingSubjects.lookups += 1
        return super().get(key, default)


def test_each_shared_reference_is_resolved_once(registry: SchemaRegistry) -> None:
    top = layered_graph(registry, width=3, depth=6)
    state = registry.state
    state.subjects = CountingSubjects(state.subjects)
    CountingSubjects.lookups = 0
    resolved = state.resolve([SchemaReference(r["name"], r["subject"], r["version"]) for r in top])
    assert len(resolved) == 18
    assert CountingSubjects.lookups == 18  # one per schema; every path would be 1,092
    # dependencies first: each schema comes after everything it references
    position = {r.subject: i for i, r in enumerate(resolved)}
    for r in resolved:
        layer = int(r.name[1:].split("_")[0])
        if layer:
            assert all(position[f"graph-L{layer - 1}_{j}"] < position[r.subject] for j in range(3))


def test_a_wide_deep_reference_graph_registers_and_replays(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, name="graph") as cluster:
        registry = SchemaRegistry(cluster).start()
        top = layered_graph(registry, width=6, depth=10)
        root = {
            "type": "record",
            "name": "Root",
            "fields": [{"name": f"f{i}", "type": r["name"]} for i, r in enumerate(top)],
        }
        root_id = registry.register("root", {"schema": json.dumps(root), "references": top})["id"]
        assert registry.referenced_by("graph-L9_0", 1) == [root_id]
        registry.close()
        again = SchemaRegistry(cluster).start()
        assert again.schema_by_id(root_id)["references"] == top
        again.close()


# -- the state log's record limit ------------------------------------------------------------------
def test_a_schema_too_large_for_the_log_is_refused_naming_the_limit(
    registry: SchemaRegistry,
) -> None:
    symbols = [f"S{i}" for i in range(100_000)]
    schema = json.dumps({"type": "enum", "name": "Big", "symbols": symbols})
    assert len(schema) < 1_048_576  # within the schema size limit
    with pytest.raises(errors.RegistryError) as excinfo:
        registry.register("big-value", {"schema": schema})
    assert excinfo.value.error_code == errors.INVALID_SCHEMA
    assert "999872 bytes" in str(excinfo.value)
    assert registry.subjects() == []
    # a smaller enum of the same shape fits
    small = json.dumps({"type": "enum", "name": "Big", "symbols": symbols[:50_000]})
    assert registry.register("big-value", {"schema": small})["id"] == 1


def test_a_restart_from_a_snapshot_serves_the_same_registry(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path, name="snap") as cluster:
        registry = SchemaRegistry(cluster).start()
        top = layered_graph(registry, width=2, depth=3)
        registry.set_config("graph-L0_0", {"compatibility": "FULL"})
        registry.delete_version("graph-L2_1", 1)
        offset = registry.snapshot()
        assert offset > 0
        registry.register("after", {"schema": record("After", "a")})
        again = SchemaRegistry(cluster).start()
        assert again._log.snapshot_offset == offset
        for each in (registry, again):
            each.sync()
        assert again.subjects(deleted=True) == registry.subjects(deleted=True)
        assert again.referenced_by("graph-L1_0", 1) == registry.referenced_by("graph-L1_0", 1)
        assert again.get_config("graph-L0_0") == {"compatibilityLevel": "FULL"}
        for ref in top:
            assert again.get_version(ref["subject"], 1, deleted=True) == registry.get_version(
                ref["subject"], 1, deleted=True
            )
        with pytest.raises(errors.RegistryError):
            again.get_version("graph-L2_1", 1)
        assert again.register("new", {"schema": record("New", "b")}) == registry.register(
            "new", {"schema": record("New", "b")}
        )
        again.close()
        registry.close()
