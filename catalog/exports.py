"""Exports of the catalog: AsyncAPI 3.0 per service, Backstage entities, and the
service/stream topology as Mermaid and Graphviz DOT. Pure: they read a `CatalogState` and the
streams' schemas through a `SchemaSource`-like callable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from catalog.model import Lifecycle, Service, Stream
from catalog.state import CatalogState

#: subject -> (schemaType, schema text) of its latest version, or None
SchemaLookup = Callable[[str], tuple[str, str] | None]

_ID = re.compile(r"[^A-Za-z0-9]")
_AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
_JSON_FORMAT = "application/schema+json;version=draft-07"
_PROTOBUF_FORMAT = "application/vnd.google.protobuf;version=3"


def _identifier(text: str) -> str:
    """A graph node id for any name, distinct for distinct names (`a.b` -> `a_2e_b`)."""
    return _ID.sub(lambda match: f"_{ord(match.group()):x}_", text)


def _no_schemas(subject: str) -> None:
    return None


# -- AsyncAPI 3.0 ---------------------------------------------------------------------------------


def asyncapi(
    state: CatalogState, service_name: str, schemas: SchemaLookup = _no_schemas
) -> dict[str, Any]:
    """An AsyncAPI 3.0 document for one service: a channel per stream it reads or writes,
    `send` operations for its outputs and `receive` for its inputs, message payloads from the
    registry, stream tags, and deprecation as a `deprecated` tag plus `x-deprecation`."""
    service = state.service(service_name)
    info: dict[str, Any] = {"title": service.name, "version": "1.0.0"}
    if service.description:
        info["description"] = service.description
    contact = next((c for c in service.contacts if "@" in c), None)
    if contact:
        info["contact"] = {"email": contact}
    if service.team:
        info["tags"] = [{"name": f"team:{service.team}"}]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for action, topics in (("send", service.outputs), ("receive", service.inputs)):
        for topic in topics:
            stream = state.streams.get(topic) or Stream(topic)
            channel_id = topic  # topic names are valid AsyncAPI component keys
            message_id = f"{topic}.message"
            if channel_id not in channels:
                channels[channel_id] = _channel(stream, message_id)
                messages[message_id] = _message(stream, schemas)
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_id}"}],
            }
            if stream.lifecycle is Lifecycle.DEPRECATED:
                operation["tags"] = [{"name": "deprecated"}]
            operations[f"{action}_{channel_id}"] = operation
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": "application/octet-stream",
    }
    document["channels"] = channels
    document["operations"] = operations
    document["components"] = {"messages": messages}
    return document


def _channel(stream: Stream, message_id: str) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": stream.topic,
        "messages": {message_id: {"$ref": f"#/components/messages/{message_id}"}},
    }
    if stream.description:
        channel["description"] = stream.description
    tags = [{"name": str(tag)} for tag in stream.tags]
    if stream.owner:
        tags.append({"name": f"owner:{stream.owner}"})
    if stream.lifecycle is not Lifecycle.ACTIVE:
        tags.append({"name": stream.lifecycle.value})
    if tags:
        channel["tags"] = tags
    if stream.deprecation is not None:
        channel["x-deprecation"] = {
            key: value for key, value in stream.deprecation.to_dict().items() if value is not None
        }
    return channel


def _message(stream: Stream, schemas: SchemaLookup) -> dict[str, Any]:
    message: dict[str, Any] = {"name": stream.topic, "title": stream.topic}
    key_subject, value_subject = stream.subjects()
    value = schemas(value_subject)
    if value is not None:
        message["payload"] = _multi_format(*value)
        message["contentType"] = "application/octet-stream"
    key = schemas(key_subject)
    if key is not None:
        message["bindings"] = {"kafka": {"key": _key_schema(*key), "bindingVersion": "0.5.0"}}
    return message


def _multi_format(schema_type: str, text: str) -> dict[str, Any]:
    if schema_type == "PROTOBUF":
        return {"schemaFormat": _PROTOBUF_FORMAT, "schema": text}
    parsed = json.loads(text)
    schema_format = _JSON_FORMAT if schema_type == "JSON" else _AVRO_FORMAT
    return {"schemaFormat": schema_format, "schema": parsed}


def _key_schema(schema_type: str, text: str) -> dict[str, Any]:
    if schema_type == "JSON":
        parsed = json.loads(text)
        return parsed if isinstance(parsed, dict) else {"type": "string"}
    return {"type": "string", "description": f"{schema_type} key, see the registry"}


# -- Backstage ------------------------------------------------------------------------------------


def backstage(state: CatalogState, system: str | None = None) -> str:
    """Backstage `catalog-info.yaml` entities: a Component per service (providing the APIs of
    the streams it owns, consuming the ones it reads) and an API per stream."""
    entities: list[dict[str, Any]] = []
    for _name, service in sorted(state.services.items()):
        entities.append(_component(state, service, system))
    for _topic, stream in sorted(state.streams.items()):
        if stream.lifecycle is Lifecycle.RETIRED:
            continue
        entities.append(_api(stream, system))
    return yaml.safe_dump_all(entities, sort_keys=False, allow_unicode=True)


def _entity_name(text: str) -> str:
    """Backstage names: letters, digits, `-`, `_`, `.`, at most 63 characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:63].strip("-_.") or "unnamed"


def _component(state: CatalogState, service: Service, system: str | None) -> dict[str, Any]:
    owned = [s.topic for s in state.owned_by(service.name)]
    spec: dict[str, Any] = {
        "type": "service",
        "lifecycle": "production",
        "owner": service.team or service.name,
    }
    if system:
        spec["system"] = system
    if owned:
        spec["providesApis"] = [_entity_name(topic) for topic in owned]
    if service.inputs:
        spec["consumesApis"] = [_entity_name(topic) for topic in service.inputs]
    metadata: dict[str, Any] = {"name": _entity_name(service.name)}
    if service.description:
        metadata["description"] = service.description
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": spec,
    }


def _api(stream: Stream, system: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": _entity_name(stream.topic), "title": stream.topic}
    if stream.description:
        metadata["description"] = stream.description
    tags = sorted({_entity_name(tag.name).lower() for tag in stream.tags})
    if tags:
        metadata["tags"] = tags
    if stream.namespace:
        metadata["annotations"] = {"streamgov.io/namespace": stream.namespace}
    spec: dict[str, Any] = {
        "type": "asyncapi",
        "lifecycle": "deprecated" if stream.lifecycle is Lifecycle.DEPRECATED else "production",
        "owner": stream.owner or "unowned",
        "definition": f"asyncapi: 3.0.0\ninfo: {{title: {stream.topic}, version: 1.0.0}}\n"
        f"channels:\n  {stream.topic}: {{address: {stream.topic}}}\n",
    }
    if system:
        spec["system"] = system
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": metadata,
        "spec": spec,
    }


# -- topology -------------------------------------------------------------------------------------


def topology(state: CatalogState) -> tuple[set[str], set[str], list[tuple[str, str]]]:
    """Services, streams, and edges `svc:NAME -> topic:T` (writes) and `topic:T -> svc:NAME`
    (reads), from declarations and owners."""
    services = set(state.services)
    streams = set(state.streams)
    edges: set[tuple[str, str]] = set()
    for service in state.services.values():
        for topic in service.outputs:
            streams.add(topic)
            edges.add((f"svc:{service.name}", f"topic:{topic}"))
        for topic in service.inputs:
            streams.add(topic)
            edges.add((f"topic:{topic}", f"svc:{service.name}"))
    for stream in state.streams.values():
        if stream.owner:
            services.add(stream.owner)
            edges.add((f"svc:{stream.owner}", f"topic:{stream.topic}"))
    return services, streams, sorted(edges)


def mermaid(state: CatalogState) -> str:
    """The topology as a Mermaid flowchart: services as boxes, streams as stadiums."""
    services, streams, edges = topology(state)
    lines = ["flowchart LR"]
    for name in sorted(services):
        lines.append(f'    svc_{_identifier(name)}["{name}"]')
    for topic in sorted(streams):
        stream = state.streams.get(topic)
        label = topic + (
            " (deprecated)" if stream and stream.lifecycle is Lifecycle.DEPRECATED else ""
        )
        lines.append(f'    topic_{_identifier(topic)}(["{label}"])')
    for source, target in edges:
        lines.append(f"    {_node(source)} --> {_node(target)}")
    return "\n".join(lines) + "\n"


def dot(state: CatalogState) -> str:
    """The topology as a Graphviz DOT digraph."""
    services, streams, edges = topology(state)
    lines = ["digraph streams {", "    rankdir=LR;"]
    for name in sorted(services):
        lines.append(f"    {_node('svc:' + name)} [label={json.dumps(name)}, shape=box];")
    for topic in sorted(streams):
        stream = state.streams.get(topic)
        style = ", style=dashed" if stream and stream.lifecycle is Lifecycle.DEPRECATED else ""
        lines.append(
            f"    {_node('topic:' + topic)} [label={json.dumps(topic)}, shape=oval{style}];"
        )
    for source, target in edges:
        lines.append(f"    {_node(source)} -> {_node(target)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(key: str) -> str:
    kind, _, name = key.partition(":")
    return f"{kind}_{_identifier(name)}"
