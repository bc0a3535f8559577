"""Admin APIs: topics, partitions, configs and DeleteRecords, answered by the engine with
its own validation (the same rules and messages as every other way in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.auth import CLUSTER_RESOURCE, Operation, ResourceType
from engine.errors import EngineError, InvalidConfigError, UnknownTopicOrPartitionError
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.topics import (
    internal_topic_risk,
    validate_config,
    validate_partitions,
    validate_topic_name,
)

_TOPIC, _BROKER = 2, 4
_SOURCE_TOPIC, _SOURCE_DEFAULT = 1, 5
_SET, _DELETE, _APPEND, _SUBTRACT = 0, 1, 2, 3


def _outcome(action: Callable[[], object]) -> tuple[int, str | None]:
    """Run an engine action: (error code, message)."""
    try:
        action()
    except EngineError as exc:
        return errors.code_of(exc), str(exc)
    return errors.NONE, None


def _may_create(conn: Connection, name: str) -> bool:
    return conn.allowed(Operation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE) or conn.allowed(
        Operation.CREATE, ResourceType.TOPIC, name
    )


def _create_one(
    broker: Broker, conn: Connection, topic: Any, validate_only: bool
) -> dict[str, Any]:
    name = topic.name
    partitions = 1 if topic.num_partitions == -1 else int(topic.num_partitions)
    reply: dict[str, Any] = {"name": name, "num_partitions": partitions, "replication_factor": 1}
    if not _may_create(conn, name):
        return {**reply, "error_code": errors.TOPIC_AUTHORIZATION_FAILED, "error_message": None}
    if topic.replication_factor not in (-1, 1):
        return {
            **reply,
            "error_code": errors.INVALID_REPLICATION_FACTOR,
            "error_message": f"Replication factor must be 1 on this single-node broker, "
            f"got {topic.replication_factor}.",
        }
    if topic.assignments:
        partitions = len(topic.assignments)
        reply["num_partitions"] = partitions
    config = {c.name: c.value for c in topic.configs if c.value is not None}

    def create() -> None:
        if validate_only:
            validate_topic_name(name)
            validate_partitions(partitions)
            validate_config(config)
            if name in broker.topics():
                broker.engine.create_topic(name, partitions, config)  # raises: exists
        else:
            broker.engine.create_topic(name, partitions, config)

    code, message = _outcome(create)
    return {**reply, "error_code": code, "error_message": message, "configs": None}


def create_topics_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """CreateTopics."""
    body = request.body
    validate_only = bool(getattr(body, "validate_only", False))
    return {"topics": [_create_one(broker, conn, t, validate_only) for t in body.topics]}


def delete_topics_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DeleteTopics (by name; v6 names topics by id as well)."""
    body = request.body
    names: list[str | None] = list(getattr(body, "topic_names", ()) or ())
    for state in getattr(body, "topics", ()) or ():
        name = state.name
        if name is None and state.topic_id is not None:
            ids = {meta.topic_id: n for n, meta in broker.topics().items()}
            name = ids.get(state.topic_id.hex)
        names.append(name)
    responses = []
    for name in names:
        if name is None:
            responses.append(
                {"name": "", "error_code": errors.UNKNOWN_TOPIC_OR_PARTITION, "topic_id": 0}
            )
            continue
        risk = internal_topic_risk(name, "delete")
        if not conn.allowed(Operation.DELETE, ResourceType.TOPIC, name):
            code, message = errors.TOPIC_AUTHORIZATION_FAILED, None
        elif risk is not None:
            code, message = errors.POLICY_VIOLATION, f"{risk}; {INTERNAL_HINT}"
        else:
            code, message = _outcome(lambda n=name: broker.engine.delete_topic(n))  # type: ignore[misc]
        if code == errors.NONE:
            with broker.topic_lock(name):
                broker.producers.forget_topic(name)
        responses.append({"name": name, "error_code": code, "error_message": message})
    return {"responses": responses}


#: What a refusal on an internal topic tells the Kafka client to do instead.
INTERNAL_HINT = "Kafka clients may not change it; use streamgov's CLI or REST with --internal"


def _refused(name: str, risk: str) -> dict[str, Any]:
    return {
        "name": name,
        "error_code": errors.POLICY_VIOLATION,
        "error_message": f"{risk}; {INTERNAL_HINT}",
    }


def create_partitions_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """CreatePartitions: grow a topic (never shrink)."""
    body = request.body
    results = []
    for topic in body.topics:
        if not conn.allowed(Operation.ALTER, ResourceType.TOPIC, topic.name):
            results.append({"name": topic.name, "error_code": errors.TOPIC_AUTHORIZATION_FAILED})
            continue
        risk = internal_topic_risk(topic.name, "add partitions to")
        if risk is not None:
            results.append(_refused(topic.name, risk))
            continue

        def grow(t: Any = topic) -> None:
            meta = broker.topics().get(t.name)
            if meta is None:
                raise UnknownTopicOrPartitionError(f"topic {t.name!r} does not exist")
            if body.validate_only:
                if t.count <= meta.partitions:
                    broker.engine.add_partitions(t.name, t.count)  # raises with the reason
                validate_partitions(t.count)
            else:
                broker.engine.add_partitions(t.name, t.count)

        code, message = _outcome(grow)
        results.append({"name": topic.name, "error_code": code, "error_message": message})
    return {"results": results}


def _describe_resource(broker: Broker, conn: Connection, resource: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "resource_type": resource.resource_type,
        "resource_name": resource.resource_name,
        "error_message": None,
        "configs": [],
    }
    if resource.resource_type == _BROKER:
        return {**base, "error_code": errors.NONE}
    if resource.resource_type != _TOPIC:
        return {**base, "error_code": errors.INVALID_REQUEST, "error_message": "unknown resource"}
    name = resource.resource_name
    if not conn.allowed(Operation.DESCRIBE_CONFIGS, ResourceType.TOPIC, name):
        return {**base, "error_code": errors.TOPIC_AUTHORIZATION_FAILED}
    meta = broker.topics().get(name)
    if meta is None:
        return {
            **base,
            "error_code": errors.UNKNOWN_TOPIC_OR_PARTITION,
            "error_message": f"topic {name!r} does not exist",
        }
    keys = resource.configuration_keys
    configs: list[dict[str, Any]] = [
        {
            "name": key,
            "value": value,
            "read_only": False,
            "is_default": key not in meta.overrides,
            "config_source": _SOURCE_TOPIC if key in meta.overrides else _SOURCE_DEFAULT,
            "is_sensitive": False,
            "synonyms": [],
            "documentation": None,
        }
        for key, value in sorted(meta.config.items())
        if keys is None or key in keys
    ]
    return {**base, "error_code": errors.NONE, "configs": configs}


def describe_configs_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DescribeConfigs: a topic's effective config, its overrides marked as topic-level."""
    return {"results": [_describe_resource(broker, conn, r) for r in request.body.resources]}


def _alter(
    broker: Broker,
    conn: Connection,
    request: Request,
    updates_of: Callable[[Any, dict[str, str]], dict[str, str | None]],
) -> dict[str, Any]:
    body = request.body
    responses = []
    for resource in body.resources:
        reply = {
            "resource_type": resource.resource_type,
            "resource_name": resource.resource_name,
        }
        name = resource.resource_name
        if resource.resource_type != _TOPIC:
            code: int = errors.INVALID_REQUEST
            message: str | None = "only topic configs can be altered on this broker"
        elif not conn.allowed(Operation.ALTER_CONFIGS, ResourceType.TOPIC, name):
            code, message = errors.TOPIC_AUTHORIZATION_FAILED, None
        elif (risk := internal_topic_risk(name, "reconfigure")) is not None:
            code, message = errors.POLICY_VIOLATION, f"{risk}; {INTERNAL_HINT}"
        else:

            def alter(r: Any = resource) -> None:
                meta = broker.topics().get(r.resource_name)
                if meta is None:
                    raise UnknownTopicOrPartitionError(f"topic {r.resource_name!r} does not exist")
                updates = updates_of(r, dict(meta.overrides))
                if body.validate_only:
                    validate_config({k: v for k, v in updates.items() if v is not None})
                else:
                    broker.engine.alter_topic_config(r.resource_name, updates)

            code, message = _outcome(alter)
        responses.append({**reply, "error_code": code, "error_message": message})
    return {"responses": responses}


def _replace_all(resource: Any, overrides: dict[str, str]) -> dict[str, str | None]:
    """AlterConfigs replaces every override: keys not named return to their default."""
    given: dict[str, str | None] = {c.name: c.value for c in resource.configs}
    return {**dict.fromkeys(overrides), **given}


def _incremental(resource: Any, overrides: dict[str, str]) -> dict[str, str | None]:
    """IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT (list values)."""
    updates: dict[str, str | None] = {}
    for c in resource.configs:
        if c.config_operation == _SET:
            updates[c.name] = c.value
        elif c.config_operation == _DELETE:
            updates[c.name] = None
        elif c.config_operation in (_APPEND, _SUBTRACT):
            current = [
                v for v in (updates.get(c.name) or overrides.get(c.name) or "").split(",") if v
            ]
            values = [v for v in (c.value or "").split(",") if v]
            if c.config_operation == _APPEND:
                merged = current + [v for v in values if v not in current]
            else:
                merged = [v for v in current if v not in values]
            updates[c.name] = ",".join(merged) if merged else None
        else:
            raise InvalidConfigError(f"unknown config operation {c.config_operation}")
    return updates


def alter_configs_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """AlterConfigs."""
    return _alter(broker, conn, request, _replace_all)


def incremental_alter_configs_sync(
    broker: Broker, conn: Connection, request: Request
) -> dict[str, Any]:
    """IncrementalAlterConfigs."""
    return _alter(broker, conn, request, _incremental)


def delete_records_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DeleteRecords: move a partition's log start up to an offset (-1: the log end)."""
    topics = []
    for topic in request.body.topics:
        parts = []
        for part in topic.partitions:
            reply = {"partition_index": part.partition_index, "low_watermark": -1}
            if not conn.allowed(Operation.DELETE, ResourceType.TOPIC, topic.name):
                parts.append({**reply, "error_code": errors.TOPIC_AUTHORIZATION_FAILED})
                continue
            if internal_topic_risk(topic.name, "delete records of") is not None:
                parts.append({**reply, "error_code": errors.POLICY_VIOLATION})
                continue
            try:
                low = broker.engine.delete_records(
                    topic.name, part.partition_index, None if part.offset == -1 else part.offset
                )
            except EngineError as exc:
                parts.append({**reply, "error_code": errors.code_of(exc)})
                continue
            parts.append({**reply, "low_watermark": low, "error_code": errors.NONE})
        topics.append({"name": topic.name, "partitions": parts})
    return {"topics": topics}


def on_pool(
    fn: Callable[[Broker, Connection, Request], dict[str, Any]],
) -> Callable[[Broker, Connection, Request], Any]:
    """A handler that runs `fn` on the broker's pool."""

    async def handler(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
        return await broker.run(fn, broker, conn, request)

    handler.__doc__ = fn.__doc__
    return handler


create_topics = on_pool(create_topics_sync)
delete_topics = on_pool(delete_topics_sync)
create_partitions = on_pool(create_partitions_sync)
describe_configs = on_pool(describe_configs_sync)
alter_configs = on_pool(alter_configs_sync)
incremental_alter_configs = on_pool(incremental_alter_configs_sync)
delete_records = on_pool(delete_records_sync)
