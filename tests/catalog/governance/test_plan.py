"""Governance as code on both backends: plan, apply, idempotence, deletion only when marked,
and import then apply reproducing a cluster."""

from __future__ import annotations

import contextlib
import os
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.governance.files import load_governance
from catalog.governance.importer import import_cluster
from catalog.governance.plan import Context, apply_plan, build_plan
from catalog.schemas import RegistrySchemas
from catalog.service import Catalog, CatalogSettings
from registry.service import SchemaRegistry
from tests.brokers import open_backend, tansu_broker

BACKENDS = ["embedded", pytest.param("kafka", marks=pytest.mark.kafka)]

ORDER_V1 = '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}'
ORDER_V2 = (
    '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},'
    '{"name":"email","type":["null","string"],"default":null,"confluent:tags":["PII"]}]}'
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_context(
    request: pytest.FixtureRequest, backend: str, directory: Path, suffix: str
) -> Context:
    cluster = open_backend(request, backend, directory, "governance")
    registry = SchemaRegistry(cluster, f"_schemas-{suffix}").start()
    catalog = Catalog(
        cluster,
        CatalogSettings(topic=f"_catalog-{suffix}", events_topic=f"_catalog_events-{suffix}"),
        schemas=RegistrySchemas(registry),
    ).start()
    return Context(cluster, registry, catalog)


def close(context: Context) -> None:
    context.catalog.close()
    context.registry.close()
    context.cluster.close()


@pytest.fixture()
def context(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Context]:
    opened = open_context(request, backend, tmp_path / "cluster", uuid.uuid4().hex[:8])
    yield opened
    close(opened)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def files(tmp_path: Path, suffix: str, *, schema: str = ORDER_V1, extra: str = "") -> Path:
    root = tmp_path / "repo"
    write(root, "schemas/orders.avsc", schema)
    write(
        root,
        "teams/billing.yaml",
        f"""
        services:
          billing-{suffix}:
            team: finance
            inputs: [orders-{suffix}]
            outputs: [invoices-{suffix}]
        streams:
          invoices-{suffix}:
            owner: billing-{suffix}
            tags: [financial]
        """,
    )
    return write(
        root,
        "streamgov.yaml",
        f"""
        include: ["teams/*.yaml"]
        streams:
          orders-{suffix}:
            owner: checkout-{suffix}
            namespace: sales
            tags: [pii, tier=gold]
            partitions: 2
            config: {{retention.ms: "3600000"}}
            value_schema: schemas/orders.avsc
            deprecated: {{replacement: invoices-{suffix}, reason: merged}}
        {extra}
        """,
    )


def plan_for(path: Path, context: Context):  # type: ignore[no-untyped-def]
    return build_plan(load_governance(path), context)


def test_apply_makes_the_live_state_match_and_a_second_plan_is_empty(
    context: Context, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    path = files(tmp_path, suffix)
    first = plan_for(path, context)
    kinds = sorted((c.kind, c.name, c.action) for c in first.changes)
    assert kinds == sorted(
        [
            ("topic", f"orders-{suffix}", "create"),
            ("topic", f"invoices-{suffix}", "create"),
            ("schema", f"orders-{suffix}-value", "create"),
            ("stream", f"orders-{suffix}", "create"),
            ("stream", f"invoices-{suffix}", "create"),
            ("service", f"billing-{suffix}", "create"),
        ]
    )
    apply_plan(first, context)
    assert plan_for(path, context).empty

    description = context.cluster.describe_topic(f"orders-{suffix}")
    assert len(description.partitions) == 2
    assert description.config["retention.ms"] == "3600000"
    stream = context.catalog.stream(f"orders-{suffix}")
    assert stream.owner == f"checkout-{suffix}" and stream.lifecycle.value == "deprecated"
    assert [str(t) for t in stream.tags] == ["pii", "tier=gold"]

    # a change in the files is one update each, and applying it leaves nothing to do
    path = files(tmp_path, suffix, schema=ORDER_V2)
    changes = plan_for(path, context).changes
    assert [(c.kind, c.action) for c in changes] == [("schema", "update")]
    apply_plan(plan_for(path, context), context)
    assert plan_for(path, context).empty
    fields = context.catalog.fields(context.catalog.stream(f"orders-{suffix}"))
    assert [(f.path, [str(t) for t in f.tags]) for f in fields] == [("id", []), ("email", ["pii"])]


def test_only_what_is_marked_is_deleted(context: Context, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    context.cluster.create_topic(f"unmanaged-{suffix}", 1)
    apply_plan(plan_for(files(tmp_path, suffix), context), context)
    marked = files(tmp_path, suffix, extra=f"  invoices-{suffix}: {{delete: true}}").read_text()
    # the include also declares invoices: drop it there so the deletion is the only declaration
    (tmp_path / "repo/teams/billing.yaml").write_text("services: {}\n")
    path = tmp_path / "repo/streamgov.yaml"
    path.write_text(marked)
    changes = plan_for(path, context).changes
    assert [(c.kind, c.name, c.action) for c in changes] == [
        ("stream", f"invoices-{suffix}", "delete"),
        ("topic", f"invoices-{suffix}", "delete"),
    ]
    apply_plan(plan_for(path, context), context)
    topics = context.cluster.list_topics()
    assert f"invoices-{suffix}" not in topics
    assert f"unmanaged-{suffix}" in topics and f"orders-{suffix}" in topics
    assert plan_for(path, context).empty


def test_import_then_apply_on_an_empty_cluster_reproduces_it(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    source = open_context(request, backend, tmp_path / "source", suffix)
    try:
        apply_plan(plan_for(files(tmp_path, suffix, schema=ORDER_V2), source), source)
        group = f"reporting-{suffix}"
        from engine.types import OffsetAndMetadata, TopicPartition

        source.cluster.commit_offsets(
            group, {TopicPartition(f"orders-{suffix}", 0): OffsetAndMetadata(0)}
        )
        written, _ = import_cluster(source, tmp_path / "imported")
        imported_text = written.read_text()
        # everything imported matches its own cluster, except the groups that become services
        # (on the shared broker other tests' groups show up too: look at this test's only)
        changes = plan_for(written, source).changes
        assert [(c.kind, c.name, c.action) for c in changes if suffix in c.name] == [
            ("service", group, "create")
        ]
        assert all(c.kind == "service" and c.action == "create" for c in changes), changes
    finally:
        close(source)

    target_suffix = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        target_backend, directory = backend, tmp_path / "target"
        if backend == "kafka":
            if os.environ.get("KAFKA_BOOTSTRAP"):
                pytest.skip("an empty second Kafka cluster is started only with tansu")
            bootstrap = stack.enter_context(tansu_broker())
            stack.enter_context(pytest.MonkeyPatch.context()).setattr(
                request, "getfixturevalue", lambda name: bootstrap
            )
        target = open_context(request, target_backend, directory, target_suffix)
        stack.callback(close, target)
        apply_plan(plan_for(written, target), target)
        assert plan_for(written, target).empty
        reimported, _ = import_cluster(target, tmp_path / "reimported")
        assert reimported.read_text() == imported_text
        assert f"reporting-{suffix}:" in imported_text
