"""The consumer-group coordinator of the embedded engine, over `groups.db`.

Every process that opens the cluster acts as coordinator through the shared database: each
operation is one IMMEDIATE transaction that first expires dead members, then applies the
request. The protocol is Kafka's eager rebalance:

* a join (or a member dying or leaving) moves the group to PreparingRebalance and opens
  generation G+1; every live member must rejoin (members learn it from their heartbeat) or be
  dropped once its rebalance timeout runs out;
* when every live member has rejoined, the assignor runs in that same transaction, the group
  moves to generation G+1 and Stable, and each member picks its assignment up on its next
  heartbeat.

Offset commits from a member carry its generation and are refused with
`RebalanceInProgressError` when it is stale.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from engine.assignors import assign
from engine.embedded.sqlite import write_tx
from engine.errors import (
    GroupIdNotFoundError,
    GroupNotEmptyError,
    InconsistentGroupProtocolError,
    RebalanceInProgressError,
)
from engine.types import (
    GroupDescription,
    GroupListing,
    GroupState,
    MemberDescription,
    OffsetAndMetadata,
    TopicPartition,
)

#: Partition counts of the given topics (absent when a topic does not exist).
PartitionCounts = Callable[[Iterable[str]], dict[str, int]]

_SCHEMA = (
    # Groups with live members that joined through the Kafka-protocol listener (which runs
    # their join/sync barrier itself), as the listener last described them: the engine's own
    # consumers may not join them, and describe/list show them.
    """CREATE TABLE IF NOT EXISTS kafka_groups (
        group_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        protocol TEXT NOT NULL,
        generation INTEGER NOT NULL,
        members TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS groups (
        group_id TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        state TEXT NOT NULL,
        protocol TEXT NOT NULL,
        rebalance_started_ms INTEGER NOT NULL,
        partition_counts TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS members (
        group_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        host TEXT NOT NULL,
        topics TEXT NOT NULL,
        assignor TEXT NOT NULL,
        session_timeout_ms INTEGER NOT NULL,
        rebalance_timeout_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        joined_generation INTEGER NOT NULL,
        assignment TEXT NOT NULL,
        PRIMARY KEY (group_id, member_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS offsets (
        group_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        part INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        commit_ms INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, part)
    ) WITHOUT ROWID""",
)


class HeartbeatStatus(StrEnum):
    """What a member learns from a heartbeat."""

    STABLE = "stable"  # the group is stable; `assignment` is current for `generation`
    AWAITING = "awaiting"  # joined the next generation; waiting for the other members
    REJOIN = "rejoin"  # a rebalance started: revoke and join again
    UNKNOWN_MEMBER = "unknown"  # expired or removed: join again as a new member


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The coordinator's answer to a join or heartbeat."""

    status: HeartbeatStatus
    member_id: str
    generation: int = -1
    assignment: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """What a member declares when it joins."""

    client_id: str
    host: str
    topics: tuple[str, ...]
    assignor: str
    session_timeout_ms: int
    rebalance_timeout_ms: int


def init_groups(conn: sqlite3.Connection) -> None:
    """Create the coordinator's schema if it does not exist yet."""
    with write_tx(conn):
        for statement in _SCHEMA:
            conn.execute(statement)


def mark_external(conn: sqlite3.Connection, description: GroupDescription, expires_ms: int) -> None:
    """Record a group of Kafka-protocol members as the listener sees it, until `expires_ms`
    (a description without members clears it)."""
    with write_tx(conn):
        if not description.members:
            conn.execute("DELETE FROM kafka_groups WHERE group_id = ?", (description.group_id,))
            return
        members = [
            [m.member_id, m.client_id, m.host, [list(tp) for tp in m.assignment]]
            for m in description.members
        ]
        conn.execute(
            "INSERT OR REPLACE INTO kafka_groups VALUES (?, ?, ?, ?, ?, ?)",
            (
                description.group_id,
                str(description.state),
                description.protocol,
                description.generation,
                json.dumps(members),
                expires_ms,
            ),
        )


def _external(conn: sqlite3.Connection, group: str, now_ms: int) -> GroupDescription | None:
    """The live Kafka-protocol description of a group, if any."""
    row = conn.execute(
        "SELECT state, protocol, generation, members FROM kafka_groups "
        "WHERE group_id = ? AND expires_ms >= ?",
        (group, now_ms),
    ).fetchone()
    if row is None:
        return None
    members = tuple(
        MemberDescription(m, c, h, tuple(TopicPartition(t, int(p)) for t, p in a))
        for m, c, h, a in json.loads(row[3])
    )
    return GroupDescription(group, GroupState(row[0]), str(row[1]), members, int(row[2]))


def member_count(conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts) -> int:
    """The group's live members of the engine's own consumers (Kafka-protocol ones aside)."""
    with write_tx(conn):
        _expire(conn, group, now_ms, counts)
        return _member_count(conn, group)


# -- internals (all run inside the caller's write transaction) -----------------------------


def _group_row(conn: sqlite3.Connection, group: str) -> tuple[int, str, str, int] | None:
    row = conn.execute(
        "SELECT generation, state, protocol, rebalance_started_ms FROM groups WHERE group_id = ?",
        (group,),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]), int(row[3]))


def _ensure_group(conn: sqlite3.Connection, group: str) -> tuple[int, str, str, int]:
    conn.execute(
        "INSERT OR IGNORE INTO groups VALUES (?, 0, ?, '', 0, '{}')", (group, GroupState.EMPTY)
    )
    row = _group_row(conn, group)
    assert row is not None
    return row


def _member_count(conn: sqlite3.Connection, group: str) -> int:
    return int(
        conn.execute("SELECT count(*) FROM members WHERE group_id = ?", (group,)).fetchone()[0]
    )


def _start_rebalance(conn: sqlite3.Connection, group: str, now_ms: int) -> None:
    generation, state, _, _ = _ensure_group(conn, group)
    if _member_count(conn, group) == 0:
        conn.execute(
            "UPDATE groups SET generation = ?, state = ?, protocol = '' WHERE group_id = ?",
            (generation + 1 if state != GroupState.EMPTY else generation, GroupState.EMPTY, group),
        )
    elif state != GroupState.PREPARING_REBALANCE:
        conn.execute(
            "UPDATE groups SET state = ?, rebalance_started_ms = ? WHERE group_id = ?",
            (GroupState.PREPARING_REBALANCE, now_ms, group),
        )


def _expire(conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts) -> None:
    """Drop members whose session ran out, or who did not rejoin a rebalance in time."""
    row = _group_row(conn, group)
    if row is None:
        return
    generation, state, _, started = row
    removed = conn.execute(
        "DELETE FROM members WHERE group_id = ? AND last_seen_ms + session_timeout_ms < ?",
        (group, now_ms),
    ).rowcount
    if state == GroupState.PREPARING_REBALANCE:
        removed += conn.execute(
            "DELETE FROM members WHERE group_id = ? AND joined_generation != ? "
            "AND ? + rebalance_timeout_ms < ?",
            (group, generation + 1, started, now_ms),
        ).rowcount
    if removed:
        _start_rebalance(conn, group, now_ms)
    _maybe_complete(conn, group, counts)


def _maybe_complete(conn: sqlite3.Connection, group: str, counts: PartitionCounts) -> None:
    """Finish a rebalance once every live member has rejoined: run the assignor."""
    row = _group_row(conn, group)
    if row is None or row[1] != GroupState.PREPARING_REBALANCE:
        return
    generation = row[0] + 1
    members = conn.execute(
        "SELECT member_id, topics, assignor, joined_generation FROM members WHERE group_id = ?",
        (group,),
    ).fetchall()
    if not members:
        _start_rebalance(conn, group, 0)
        return
    if any(joined != generation for _, _, _, joined in members):
        return
    subscriptions = {member: json.loads(topics) for member, topics, _, _ in members}
    protocol = str(members[0][2])
    partition_counts = counts(sorted({t for ts in subscriptions.values() for t in ts}))
    assignment = assign(protocol, subscriptions, partition_counts)
    for member, partitions in assignment.items():
        conn.execute(
            "UPDATE members SET assignment = ? WHERE group_id = ? AND member_id = ?",
            (json.dumps([list(tp) for tp in partitions]), group, member),
        )
    conn.execute(
        "UPDATE groups SET generation = ?, state = ?, protocol = ?, partition_counts = ? "
        "WHERE group_id = ?",
        (generation, GroupState.STABLE, protocol, json.dumps(partition_counts), group),
    )


def _answer(conn: sqlite3.Connection, group: str, member_id: str) -> Heartbeat:
    row = _group_row(conn, group)
    member = conn.execute(
        "SELECT joined_generation, assignment FROM members WHERE group_id = ? AND member_id = ?",
        (group, member_id),
    ).fetchone()
    if row is None or member is None:
        return Heartbeat(HeartbeatStatus.UNKNOWN_MEMBER, member_id)
    generation, state, _, _ = row
    joined, assignment = int(member[0]), member[1]
    if state == GroupState.STABLE and joined == generation:
        partitions = tuple(TopicPartition(t, int(p)) for t, p in json.loads(assignment))
        return Heartbeat(HeartbeatStatus.STABLE, member_id, generation, partitions)
    if state == GroupState.PREPARING_REBALANCE and joined == generation + 1:
        return Heartbeat(HeartbeatStatus.AWAITING, member_id, generation)
    return Heartbeat(HeartbeatStatus.REJOIN, member_id, generation)


def _check_metadata(
    conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts
) -> None:
    """Rebalance a stable group when a subscribed topic appeared, vanished or grew."""
    row = conn.execute(
        "SELECT state, partition_counts FROM groups WHERE group_id = ?", (group,)
    ).fetchone()
    if row is None or row[0] != GroupState.STABLE:
        return
    topics = {
        t
        for (ts,) in conn.execute("SELECT topics FROM members WHERE group_id = ?", (group,))
        for t in json.loads(ts)
    }
    if counts(sorted(topics)) != json.loads(row[1]):
        _start_rebalance(conn, group, now_ms)


# -- operations ----------------------------------------------------------------------------


def join(
    conn: sqlite3.Connection,
    group: str,
    member_id: str | None,
    spec: MemberSpec,
    now_ms: int,
    counts: PartitionCounts,
) -> Heartbeat:
    """Join (or rejoin) the group for its next generation."""
    with write_tx(conn):
        _ensure_group(conn, group)
        _expire(conn, group, now_ms, counts)
        external = _external(conn, group, now_ms)
        if external is not None:
            raise InconsistentGroupProtocolError(
                f"group {group!r} has live members that joined through the Kafka protocol "
                f"(assignor {external.protocol!r}); a streamgov consumer cannot join it"
            )
        others = conn.execute(
            "SELECT DISTINCT assignor FROM members WHERE group_id = ? AND member_id != ?",
            (group, member_id or ""),
        ).fetchall()
        if others and any(a != spec.assignor for (a,) in others):
            raise InconsistentGroupProtocolError(
                f"group {group!r} uses the {others[0][0]!r} assignor; "
                f"a member asking for {spec.assignor!r} cannot join it"
            )
        exists = (
            member_id is not None
            and conn.execute(
                "SELECT 1 FROM members WHERE group_id = ? AND member_id = ?", (group, member_id)
            ).fetchone()
        )
        if not exists:
            member_id = new_member_id(spec.client_id)
            conn.execute(
                "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, -1, '[]')",
                (
                    group,
                    member_id,
                    spec.client_id,
                    spec.host,
                    json.dumps(sorted(spec.topics)),
                    spec.assignor,
                    spec.session_timeout_ms,
                    spec.rebalance_timeout_ms,
                    now_ms,
                ),
            )
        assert member_id is not None
        _start_rebalance(conn, group, now_ms)
        generation = _ensure_group(conn, group)[0]
        conn.execute(
            "UPDATE members SET joined_generation = ?, last_seen_ms = ?, topics = ? "
            "WHERE group_id = ? AND member_id = ?",
            (generation + 1, now_ms, json.dumps(sorted(spec.topics)), group, member_id),
        )
        _maybe_complete(conn, group, counts)
        return _answer(conn, group, member_id)


def heartbeat(
    conn: sqlite3.Connection, group: str, member_id: str, now_ms: int, counts: PartitionCounts
) -> Heartbeat:
    """Keep the member alive and tell it what to do next."""
    with write_tx(conn):
        conn.execute(
            "UPDATE members SET last_seen_ms = ? WHERE group_id = ? AND member_id = ?",
            (now_ms, group, member_id),
        )
        _expire(conn, group, now_ms, counts)
        _check_metadata(conn, group, now_ms, counts)
        return _answer(conn, group, member_id)


def leave(
    conn: sqlite3.Connection, group: str, member_id: str, now_ms: int, counts: PartitionCounts
) -> None:
    """Remove the member; the others rebalance."""
    with write_tx(conn):
        gone = conn.execute(
            "DELETE FROM members WHERE group_id = ? AND member_id = ?", (group, member_id)
        ).rowcount
        if gone:
            _start_rebalance(conn, group, now_ms)
            _maybe_complete(conn, group, counts)


def commit(
    conn: sqlite3.Connection,
    group: str,
    offsets: Mapping[TopicPartition, OffsetAndMetadata],
    now_ms: int,
    counts: PartitionCounts,
    member: tuple[str, int] | None = None,
) -> None:
    """Store committed offsets. A member commit carries (member id, generation) and is refused
    when stale; an admin commit (no member) is refused while the group has live members."""
    with write_tx(conn):
        _expire(conn, group, now_ms, counts)
        row = _group_row(conn, group)
        if member is None:
            if _member_count(conn, group):
                raise GroupNotEmptyError(
                    f"group {group!r} has active members; offsets can only be committed by "
                    "its members until they leave"
                )
        else:
            member_id, generation = member
            known = conn.execute(
                "SELECT 1 FROM members WHERE group_id = ? AND member_id = ?", (group, member_id)
            ).fetchone()
            if row is None or not known:
                raise RebalanceInProgressError(
                    f"member {member_id} is no longer in group {group!r} (session expired or "
                    "removed); it must rejoin before committing"
                )
            if generation != row[0]:
                raise RebalanceInProgressError(
                    f"group {group!r} is at generation {row[0]} but the commit is for "
                    f"generation {generation}; the member must rejoin before committing"
                )
        _ensure_group(conn, group)
        conn.executemany(
            "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?, ?, ?, ?)",
            [
                (group, tp.topic, tp.partition, om.offset, om.metadata, now_ms)
                for tp, om in offsets.items()
            ],
        )


def committed(
    conn: sqlite3.Connection, group: str, topics: Iterable[str] | None = None
) -> dict[TopicPartition, OffsetAndMetadata]:
    """The group's committed offsets, optionally only for some topics."""
    wanted = None if topics is None else set(topics)
    return {
        TopicPartition(topic, int(part)): OffsetAndMetadata(int(offset), metadata)
        for topic, part, offset, metadata in conn.execute(
            "SELECT topic, part, next_offset, metadata FROM offsets WHERE group_id = ? "
            "ORDER BY topic, part",
            (group,),
        )
        if wanted is None or topic in wanted
    }


def forget_topic(conn: sqlite3.Connection, topic: str) -> None:
    """Drop every group's committed offsets for a deleted topic (as Kafka does)."""
    with write_tx(conn):
        conn.execute("DELETE FROM offsets WHERE topic = ?", (topic,))


def describe(
    conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts
) -> GroupDescription:
    """State, protocol, generation and members (Dead when the group is unknown)."""
    with write_tx(conn):
        _expire(conn, group, now_ms, counts)
        external = _external(conn, group, now_ms)
        if external is not None and not _member_count(conn, group):
            return external
        row = _group_row(conn, group)
        has_offsets = conn.execute(
            "SELECT 1 FROM offsets WHERE group_id = ? LIMIT 1", (group,)
        ).fetchone()
        if row is None:
            state = GroupState.EMPTY if has_offsets else GroupState.DEAD
            return GroupDescription(group, state)
        generation, state_name, protocol, _ = row
        members = tuple(
            MemberDescription(
                member_id,
                client_id,
                host,
                tuple(TopicPartition(t, int(p)) for t, p in json.loads(assignment)),
            )
            for member_id, client_id, host, assignment in conn.execute(
                "SELECT member_id, client_id, host, assignment FROM members WHERE group_id = ? "
                "ORDER BY member_id",
                (group,),
            )
        )
        return GroupDescription(group, GroupState(state_name), protocol, members, generation)


def list_groups(
    conn: sqlite3.Connection, now_ms: int, counts: PartitionCounts
) -> list[GroupListing]:
    """Every group with members or committed offsets."""
    with write_tx(conn):
        names = [
            str(g)
            for (g,) in conn.execute(
                "SELECT group_id FROM groups UNION SELECT group_id FROM offsets ORDER BY 1"
            )
        ]
        for name in names:
            _expire(conn, name, now_ms, counts)
        result = []
        external = {
            str(g): GroupState(state)
            for g, state in conn.execute(
                "SELECT group_id, state FROM kafka_groups WHERE expires_ms >= ?", (now_ms,)
            )
        }
        for name in sorted(set(names) | set(external)):
            if name in external and not _member_count(conn, name):
                result.append(GroupListing(name, external[name]))
                continue
            row = _group_row(conn, name)
            has_offsets = conn.execute(
                "SELECT 1 FROM offsets WHERE group_id = ? LIMIT 1", (name,)
            ).fetchone()
            if row is None or row[1] == GroupState.EMPTY:
                if has_offsets:
                    result.append(GroupListing(name, GroupState.EMPTY))
                continue
            result.append(GroupListing(name, GroupState(row[1])))
        return result


def _expire_known(
    conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts
) -> None:
    """Expire dead members of a group that must exist (members or offsets), else
    `GroupIdNotFoundError`."""
    _expire(conn, group, now_ms, counts)
    known = (
        _group_row(conn, group) is not None
        or conn.execute("SELECT 1 FROM offsets WHERE group_id = ? LIMIT 1", (group,)).fetchone()
        or _external(conn, group, now_ms) is not None
    )
    if not known:
        raise GroupIdNotFoundError(f"consumer group {group!r} does not exist")


def delete(conn: sqlite3.Connection, group: str, now_ms: int, counts: PartitionCounts) -> None:
    """Delete an empty group and its offsets."""
    with write_tx(conn):
        _expire_known(conn, group, now_ms, counts)
        external = _external(conn, group, now_ms)
        live = _member_count(conn, group) or (len(external.members) if external else 0)
        if live:
            raise GroupNotEmptyError(
                f"consumer group {group!r} has {live} active member(s); stop them first"
            )
        conn.execute("DELETE FROM offsets WHERE group_id = ?", (group,))
        conn.execute("DELETE FROM groups WHERE group_id = ?", (group,))


def delete_offsets(
    conn: sqlite3.Connection,
    group: str,
    partitions: Iterable[TopicPartition],
    now_ms: int,
    counts: PartitionCounts,
) -> set[str]:
    """Kafka's OffsetDelete: drop the group's committed offsets of `partitions`, except on
    topics its live members subscribe to; returns those topics (left untouched)."""
    with write_tx(conn):
        _expire_known(conn, group, now_ms, counts)
        busy = {
            t
            for (ts,) in conn.execute("SELECT topics FROM members WHERE group_id = ?", (group,))
            for t in json.loads(ts)
        }
        conn.executemany(
            "DELETE FROM offsets WHERE group_id = ? AND topic = ? AND part = ?",
            [(group, tp.topic, tp.partition) for tp in partitions if tp.topic not in busy],
        )
        return busy


def new_member_id(client_id: str) -> str:
    """A member id as Kafka forms them: the client id and a unique suffix."""
    return f"{client_id}-{uuid.uuid4()}"
