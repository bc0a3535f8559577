"""`streamgov import`: governance files for an existing cluster, so it can be managed as code.

Writes `streamgov.yaml` with every topic (partitions and the configs that differ from Kafka's
defaults), its catalog metadata, the latest key and value schema of each topic (as files under
`schemas/`), and the services: the catalog's own, plus one per consumer group that no service
claims, reading the topics the group has offsets on. Applying the result to an empty cluster
reproduces topics, configs, latest schemas, catalog entries and services.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from catalog.governance.files import CONFIG_FILE
from catalog.governance.plan import Context
from catalog.model import Stream
from engine.topics import DEFAULT_CONFIG
from registry.errors import RegistryError

_EXTENSIONS = {"AVRO": ".avsc", "JSON": ".json", "PROTOBUF": ".proto"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def import_cluster(context: Context, out_dir: Path) -> tuple[Path, list[str]]:
    """Write `streamgov.yaml` and schema files under `out_dir`; returns the file and the
    subjects that belong to no topic (not written: they have no stream to hang on)."""
    state = context.catalog.state()
    schemas_dir = out_dir / "schemas"
    streams: dict[str, Any] = {}
    used_subjects: set[str] = set()
    topics = sorted(context.cluster.list_topics())
    live = context.cluster.topic_settings(topics)
    for topic in topics:
        if topic not in live:
            continue  # deleted meanwhile
        topic_settings = live[topic]
        entry: dict[str, Any] = {}
        stream = state.streams.get(topic) or Stream(topic)
        for key in ("owner", "namespace", "description"):
            value = getattr(stream, key)
            if value is not None:
                entry[key] = value
        if stream.tags:
            entry["tags"] = [str(tag) for tag in stream.tags]
        entry["partitions"] = topic_settings.partitions
        overrides = {
            key: value
            for key, value in sorted(topic_settings.config.items())
            if DEFAULT_CONFIG.get(key) != value
        }
        if overrides:
            entry["config"] = overrides
        for key in ("key_subject", "value_subject"):
            if getattr(stream, key):
                entry[key] = getattr(stream, key)
        for part, subject in zip(("key", "value"), stream.subjects(), strict=True):
            written = _write_schema(context, subject, schemas_dir)
            if written is not None:
                entry[f"{part}_schema"] = written.relative_to(out_dir).as_posix()
                used_subjects.add(subject)
        if stream.deprecation is not None:
            entry["deprecated"] = {
                key: value
                for key, value in stream.deprecation.to_dict().items()
                if value is not None
            }
        streams[topic] = entry
    services: dict[str, Any] = {}
    for name, service in sorted(state.services.items()):
        data = service.to_dict()
        entry = {
            key: data[key]
            for key in ("team", "description", "contacts", "inputs", "outputs", "principals")
            if data[key]
        }
        if service.groups:
            entry["groups"] = list(service.groups)
        services[name] = entry
    for listing in sorted(context.cluster.list_groups(), key=lambda g: g.group_id):
        group = listing.group_id
        if state.service_of_group(group) is not None or group in services:
            continue
        if _UNSAFE.search(group) or not group[:1].isalnum():
            continue  # not a valid service name; left for a person to map
        topics = sorted({tp.topic for tp in context.cluster.committed_offsets(group)})
        services[group] = {"inputs": topics} if topics else {}
    document: dict[str, Any] = {}
    settings = dict(state.settings)
    if settings:
        catalog: dict[str, Any] = {}
        if "webhook_url" in settings:
            catalog["webhook_url"] = settings["webhook_url"]
        if "consumer_horizon_seconds" in settings:
            catalog["consumer_horizon"] = f"{int(settings['consumer_horizon_seconds'])}s"
        document["catalog"] = catalog
    document["streams"] = streams
    document["services"] = services
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / CONFIG_FILE
    header = (
        "# Written by `streamgov import`; `streamgov plan` shows what differs from the cluster.\n"
    )
    target.write_text(
        header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    orphans = sorted(set(context.registry.subjects()) - used_subjects)
    return target, orphans


def _write_schema(context: Context, subject: str, schemas_dir: Path) -> Path | None:
    try:
        body = context.registry.get_version(subject, "latest")
    except RegistryError:
        return None
    if body.get("references"):
        return None  # a file with references cannot be registered alone; left to `check`
    schema_type = str(body.get("schemaType") or "AVRO")
    path = schemas_dir / (_UNSAFE.sub("_", subject) + _EXTENSIONS.get(schema_type, ".txt"))
    schemas_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(str(body["schema"]), encoding="utf-8")
    return path
