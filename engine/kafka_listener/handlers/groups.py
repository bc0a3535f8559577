"""Consumer groups through the Kafka protocol: the join/sync/heartbeat/leave barrier run by
`GroupCoordinator`, and committed offsets, listing, describing and deleting through the
engine, so groups and offsets are one namespace with `streamgov consume --group`.

A group with live members of one kind refuses members of the other kind with
INCONSISTENT_GROUP_PROTOCOL: the two kinds assign partitions differently (Kafka clients run
their own assignor; the engine's members are assigned by the engine), so mixing them would
split the group.
"""

from __future__ import annotations

import struct
import time
from typing import Any

from engine.auth import Operation, ResourceType
from engine.errors import EngineError, GroupIdNotFoundError
from engine.kafka_listener import errors
from engine.kafka_listener.broker import Broker
from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.coordinator import Group
from engine.types import (
    GroupDescription,
    GroupState,
    MemberDescription,
    OffsetAndMetadata,
    TopicPartition,
)

#: How often a live group's mark in the engine (see `_advertise`) is renewed at most.
_ADVERTISE_EVERY_S = 1.0


async def _advertise(broker: Broker, group_id: str) -> None:
    """Keep the engine told about the group's live Kafka-protocol members (so `streamgov
    groups`, `/v3`, the TUI and the lag monitor see them, and the engine's own consumers are
    refused from the group): written when the description changes, and renewed at most every
    second; the record lapses by itself a session timeout after this broker stops."""
    group = broker.groups.groups.get(group_id)
    described = _description(group_id, group)
    now = time.monotonic()
    last = broker.groups.advertised.get(group_id)
    if not described.members:
        if last is not None:
            del broker.groups.advertised[group_id]
            await broker.run(broker.engine.mark_external_group, described)
        return
    if last is not None and last[1] == described and now - last[0] < _ADVERTISE_EVERY_S:
        return
    broker.groups.advertised[group_id] = (now, described)
    assert group is not None
    ttl_ms = max(m.session_timeout_ms for m in group.members.values())
    await broker.run(broker.engine.mark_external_group, described, ttl_ms)


def _description(group_id: str, group: Group | None) -> GroupDescription:
    """The engine's view of a Kafka-protocol group (assignments decoded for consumers)."""
    if group is None or not group.members:
        return GroupDescription(group_id, GroupState.EMPTY)
    consumer = group.protocol_type == "consumer"
    return GroupDescription(
        group_id,
        group.state,
        group.protocol or "",
        tuple(
            MemberDescription(
                m.member_id,
                m.client_id,
                m.host,
                _assigned(m.assignment) if consumer else (),
            )
            for m in group.members.values()
        ),
        group.generation,
    )


def _assigned(assignment: bytes) -> tuple[TopicPartition, ...]:
    """The partitions of a ConsumerProtocolAssignment (any version: they come first)."""
    try:
        (count,) = struct.unpack_from(">i", assignment, 2)
        pos, out = 6, []
        for _ in range(max(count, 0)):
            (length,) = struct.unpack_from(">h", assignment, pos)
            topic = assignment[pos + 2 : pos + 2 + length].decode()
            pos += 2 + length
            (parts,) = struct.unpack_from(">i", assignment, pos)
            pos += 4
            for _ in range(max(parts, 0)):
                out.append(TopicPartition(topic, struct.unpack_from(">i", assignment, pos)[0]))
                pos += 4
        return tuple(out)
    except (struct.error, UnicodeDecodeError):
        return ()


def _group_denied(conn: Connection, operation: Operation, group: str) -> bool:
    return not conn.allowed(operation, ResourceType.GROUP, group)


def _engine_members_live(broker: Broker, group: str) -> bool:
    try:
        return broker.engine.group_member_count(group) > 0
    except EngineError:
        return False


async def join_group(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """JoinGroup (v4+ asks a member without an id to rejoin with the one it is given)."""
    body = request.body
    if _group_denied(conn, Operation.READ, body.group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED, "member_id": body.member_id}
    if await broker.run(_engine_members_live, broker, body.group_id):
        return {
            "error_code": errors.INCONSISTENT_GROUP_PROTOCOL,
            "member_id": body.member_id,
            "generation_id": -1,
            "leader": "",
            "members": [],
        }
    session_ms = int(body.session_timeout.total_seconds() * 1000)
    rebalance = getattr(body, "rebalance_timeout", None)
    rebalance_ms = int(rebalance.total_seconds() * 1000) if rebalance is not None else session_ms
    reply = await broker.groups.join(
        body.group_id,
        body.member_id,
        getattr(body, "group_instance_id", None),
        body.protocol_type,
        [(p.name, bytes(p.metadata)) for p in body.protocols],
        session_ms,
        rebalance_ms,
        request.client_id,
        conn.host,
        require_known_id=request.api_version >= 4,
    )
    await _advertise(broker, body.group_id)
    return reply


async def sync_group(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """SyncGroup: the leader hands in the assignment, every member gets its own."""
    body = request.body
    if _group_denied(conn, Operation.READ, body.group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED, "assignment": b""}
    assignments = {a.member_id: bytes(a.assignment) for a in body.assignments}
    reply = await broker.groups.sync(body.group_id, body.member_id, body.generation_id, assignments)
    await _advertise(broker, body.group_id)
    return reply


async def heartbeat(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Heartbeat."""
    body = request.body
    if _group_denied(conn, Operation.READ, body.group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED}
    code = broker.groups.heartbeat(body.group_id, body.member_id, body.generation_id)
    await _advertise(broker, body.group_id)
    return {"error_code": code}


async def leave_group(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """LeaveGroup: one member (v0-2) or a batch of members and static instances (v3+)."""
    body = request.body
    if _group_denied(conn, Operation.READ, body.group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED, "members": []}
    if request.api_version < 3:
        code = broker.groups.leave(body.group_id, body.member_id)
        await _advertise(broker, body.group_id)
        return {"error_code": code}
    members = []
    for identity in body.members:
        if identity.group_instance_id is not None:
            code, member_id = broker.groups.leave_instance(
                body.group_id, identity.group_instance_id
            )
        else:
            member_id = identity.member_id
            code = broker.groups.leave(body.group_id, member_id)
        members.append(
            {
                "member_id": member_id,
                "group_instance_id": identity.group_instance_id,
                "error_code": code,
            }
        )
    await _advertise(broker, body.group_id)
    return {"error_code": errors.NONE, "members": members}


def _commit_sync(
    broker: Broker, group: str, offsets: dict[TopicPartition, OffsetAndMetadata]
) -> int:
    try:
        broker.engine.commit_offsets(group, offsets)
    except EngineError as exc:
        return errors.code_of(exc)
    return errors.NONE


async def offset_commit(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """OffsetCommit: members of the current generation, or anyone while the group is empty."""
    body = request.body
    group = body.group_id
    generation = getattr(body, "generation_id_or_member_epoch", -1)
    member_id = getattr(body, "member_id", "")
    code = errors.NONE
    if _group_denied(conn, Operation.READ, group):
        code = errors.GROUP_AUTHORIZATION_FAILED
    else:
        code = broker.groups.check_commit(group, member_id, generation)
    known = await broker.run(broker.topics)
    offsets: dict[TopicPartition, OffsetAndMetadata] = {}
    codes: dict[TopicPartition, int] = {}
    for topic in body.topics:
        for part in topic.partitions:
            tp = TopicPartition(topic.name, part.partition_index)
            if code:
                codes[tp] = code
            elif not conn.allowed(Operation.READ, ResourceType.TOPIC, topic.name):
                codes[tp] = errors.TOPIC_AUTHORIZATION_FAILED
            elif topic.name not in known or not 0 <= tp.partition < known[topic.name].partitions:
                codes[tp] = errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                offsets[tp] = OffsetAndMetadata(
                    part.committed_offset, part.committed_metadata or ""
                )
    if offsets:
        result = await broker.run(_commit_sync, broker, group, offsets)
        for tp in offsets:
            codes[tp] = result
    return {
        "topics": [
            {
                "name": topic.name,
                "partitions": [
                    {
                        "partition_index": p.partition_index,
                        "error_code": codes[TopicPartition(topic.name, p.partition_index)],
                    }
                    for p in topic.partitions
                ],
            }
            for topic in body.topics
        ]
    }


def _fetch_offsets(
    broker: Broker,
    conn: Connection,
    group: str,
    topics: Any,
    require_stable: bool,
) -> tuple[int, list[dict[str, Any]]]:
    """(group error, topics) of one group's OffsetFetch."""
    if _group_denied(conn, Operation.DESCRIBE, group):
        return errors.GROUP_AUTHORIZATION_FAILED, []
    if require_stable and broker.transactions.pending_offsets(group):
        return errors.UNSTABLE_OFFSET_COMMIT, []
    names = None if topics is None else [t.name for t in topics]
    committed = broker.engine.committed_offsets(group, names)
    wanted: dict[str, list[int]] = {}
    if topics is None:
        for tp in sorted(committed):
            wanted.setdefault(tp.topic, []).append(tp.partition)
    else:
        wanted = {t.name: list(t.partition_indexes) for t in topics}
    out = []
    for name, partitions in wanted.items():
        if not conn.allowed(Operation.DESCRIBE, ResourceType.TOPIC, name):
            continue
        parts = []
        for p in partitions:
            found = committed.get(TopicPartition(name, p))
            parts.append(
                {
                    "partition_index": p,
                    "committed_offset": -1 if found is None else found.offset,
                    "committed_leader_epoch": -1,
                    "metadata": "" if found is None else found.metadata,
                    "error_code": errors.NONE,
                }
            )
        out.append({"name": name, "partitions": parts})
    return errors.NONE, out


def offset_fetch_sync(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """OffsetFetch, one group (v1-7) or several (v8+)."""
    body = request.body
    stable = bool(getattr(body, "require_stable", False))
    if request.api_version >= 8:
        groups = []
        for group in body.groups:
            code, topics = _fetch_offsets(broker, conn, group.group_id, group.topics, stable)
            groups.append({"group_id": group.group_id, "topics": topics, "error_code": code})
        return {"groups": groups}
    code, topics = _fetch_offsets(broker, conn, body.group_id, body.topics, stable)
    return {"topics": topics, "error_code": code}


async def offset_fetch(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """OffsetFetch (committed offsets, -1 where none)."""
    return await broker.run(offset_fetch_sync, broker, conn, request)


def _encode_assignment(partitions: tuple[TopicPartition, ...]) -> bytes:
    """A ConsumerProtocolAssignment v0 for members of the engine's own groups."""
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    out = bytearray(struct.pack(">hi", 0, len(by_topic)))
    for topic, parts in sorted(by_topic.items()):
        raw = topic.encode()
        out += struct.pack(">h", len(raw)) + raw + struct.pack(">i", len(parts))
        for p in sorted(parts):
            out += struct.pack(">i", p)
    out += struct.pack(">i", -1)
    return bytes(out)


def _describe_kafka(broker: Broker, conn: Connection, group_id: str) -> dict[str, Any] | None:
    """A Kafka-protocol group with members (on the loop), else None."""
    if _group_denied(conn, Operation.DESCRIBE, group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED, "group_id": group_id}
    group = broker.groups.groups.get(group_id)
    if group is not None and group.members:
        return {
            "error_code": errors.NONE,
            "group_id": group_id,
            "group_state": str(group.state),
            "protocol_type": group.protocol_type,
            "protocol_data": group.protocol or "",
            "members": [
                {
                    "member_id": m.member_id,
                    "group_instance_id": m.instance_id,
                    "client_id": m.client_id,
                    "client_host": m.host,
                    "member_metadata": m.metadata_for(group.protocol or ""),
                    "member_assignment": m.assignment,
                }
                for m in group.members.values()
            ],
            "authorized_operations": -2147483648,
        }
    return None


def _describe_engine(broker: Broker, group_id: str) -> dict[str, Any]:
    """A group of the engine's own members (on the pool)."""
    try:
        described = broker.engine.describe_group(group_id)
    except GroupIdNotFoundError:
        return {
            "error_code": errors.NONE,
            "group_id": group_id,
            "group_state": str(GroupState.DEAD),
            "protocol_type": "",
            "protocol_data": "",
            "members": [],
        }
    return {
        "error_code": errors.NONE,
        "group_id": group_id,
        "group_state": str(described.state),
        "protocol_type": "consumer",
        "protocol_data": described.protocol,
        "members": [
            {
                "member_id": m.member_id,
                "group_instance_id": None,
                "client_id": m.client_id,
                "client_host": m.host,
                "member_metadata": b"",
                "member_assignment": _encode_assignment(m.assignment),
            }
            for m in described.members
        ],
        "authorized_operations": -2147483648,
    }


async def describe_groups(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DescribeGroups: Kafka-protocol groups from the coordinator, others from the engine."""
    out = []
    for group_id in request.body.groups:
        described = _describe_kafka(broker, conn, group_id)
        if described is None:
            described = await broker.run(_describe_engine, broker, group_id)
        out.append(described)
    return {"groups": out}


async def list_groups(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """ListGroups: every group either kind of member made, optionally filtered by state."""
    live = {
        g.group_id: (str(g.state), g.protocol_type)
        for g in broker.groups.groups.values()
        if g.members
    }
    engine_groups = await broker.run(broker.engine.list_groups)
    states: dict[str, str] = {g.group_id: str(g.state) for g in engine_groups}
    protocol_types = dict.fromkeys(states, "consumer")
    for group_id, (state, protocol_type) in live.items():
        states[group_id] = state
        protocol_types[group_id] = protocol_type
    wanted = set(getattr(request.body, "states_filter", ()) or ())
    return {
        "error_code": errors.NONE,
        "groups": [
            {
                "group_id": g,
                "protocol_type": protocol_types[g],
                "group_state": state,
                "group_type": "classic",
            }
            for g, state in sorted(states.items())
            if (not wanted or state in wanted) and not _group_denied(conn, Operation.DESCRIBE, g)
        ],
    }


def _delete_one(broker: Broker, group_id: str) -> int:
    try:
        broker.engine.delete_group(group_id)
    except EngineError as exc:
        return errors.code_of(exc)
    return errors.NONE


async def delete_groups(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """DeleteGroups: empty groups only, with their offsets."""
    results = []
    for group_id in request.body.groups_names:
        if _group_denied(conn, Operation.DELETE, group_id):
            code = errors.GROUP_AUTHORIZATION_FAILED
        elif broker.groups.live(group_id):
            code = errors.NON_EMPTY_GROUP
        else:
            code = await broker.run(_delete_one, broker, group_id)
        if code == errors.NONE:
            broker.groups.forget(group_id)
        results.append({"group_id": group_id, "error_code": code})
    return {"results": results}


def _subscribed_topics(metadata: bytes) -> set[str]:
    """The topics of a ConsumerProtocolSubscription (any version: topics come first)."""
    try:
        (count,) = struct.unpack_from(">i", metadata, 2)
        pos, topics = 6, set()
        for _ in range(max(count, 0)):
            (length,) = struct.unpack_from(">h", metadata, pos)
            topics.add(metadata[pos + 2 : pos + 2 + length].decode())
            pos += 2 + length
        return topics
    except (struct.error, UnicodeDecodeError):
        return set()


async def offset_delete(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """OffsetDelete: drop committed offsets, except on topics the live group consumes
    (GROUP_SUBSCRIBED_TO_TOPIC)."""
    body = request.body
    group_id = body.group_id
    wanted = [TopicPartition(t.name, p.partition_index) for t in body.topics for p in t.partitions]
    codes: dict[TopicPartition, int] = {}
    if _group_denied(conn, Operation.DELETE, group_id):
        return {"error_code": errors.GROUP_AUTHORIZATION_FAILED, "topics": []}
    group = broker.groups.groups.get(group_id)
    busy: set[str] = set()
    if group is not None and group.members:
        for member in group.members.values():
            busy |= _subscribed_topics(member.metadata_for(group.protocol or ""))
    allowed = []
    for tp in wanted:
        if tp.topic in busy:
            codes[tp] = errors.GROUP_SUBSCRIBED_TO_TOPIC
        elif not conn.allowed(Operation.READ, ResourceType.TOPIC, tp.topic):
            codes[tp] = errors.TOPIC_AUTHORIZATION_FAILED
        else:
            allowed.append(tp)
    try:
        engine_busy = await broker.run(broker.engine.delete_group_offsets, group_id, allowed)
    except EngineError as exc:
        return {"error_code": errors.code_of(exc), "topics": []}
    for tp in allowed:
        codes[tp] = errors.GROUP_SUBSCRIBED_TO_TOPIC if tp.topic in engine_busy else errors.NONE
    return {
        "error_code": errors.NONE,
        "topics": [
            {
                "name": t.name,
                "partitions": [
                    {
                        "partition_index": p.partition_index,
                        "error_code": codes[TopicPartition(t.name, p.partition_index)],
                    }
                    for p in t.partitions
                ],
            }
            for t in body.topics
        ],
    }
