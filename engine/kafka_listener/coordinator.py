"""The classic consumer-group coordinator for Kafka-protocol members (client-side assignors,
eager and cooperative alike: the broker only runs the join and sync barriers).

States as in Kafka: Empty -> PreparingRebalance (members (re)join; the phase ends when every
known member has rejoined or the rebalance timeout passes) -> CompletingRebalance (the leader
computes the assignment and sends it with SyncGroup) -> Stable. A join, leave or expired
session starts a new rebalance; heartbeats tell members to rejoin. Runs on the event loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.embedded.engine import EmbeddedEngine
from engine.kafka_listener import errors
from engine.types import GroupDescription, GroupState

#: Kafka's group.min/max.session.timeout.ms defaults.
MIN_SESSION_TIMEOUT_MS = 6_000
MAX_SESSION_TIMEOUT_MS = 1_800_000
_SWEEP_S = 0.25


@dataclass
class Member:
    """A member of a Kafka-protocol group."""

    member_id: str
    instance_id: str | None
    client_id: str
    host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    last_seen: float
    assignment: bytes = b""
    join: asyncio.Future[dict[str, Any]] | None = None
    sync: asyncio.Future[dict[str, Any]] | None = None

    def metadata_for(self, protocol: str) -> bytes:
        """The subscription metadata the member sent for `protocol`."""
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""


@dataclass
class Group:
    """One group's membership and rebalance state."""

    group_id: str
    state: GroupState = GroupState.EMPTY
    generation: int = 0
    protocol_type: str = ""
    protocol: str | None = None
    leader: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending: dict[str, float] = field(default_factory=dict)  # ids handed out by MEMBER_ID_REQUIRED
    rebalance_deadline: float | None = None


class GroupCoordinator:
    """Every Kafka-protocol group of this broker."""

    def __init__(self, engine: EmbeddedEngine, clock: Callable[[], float] = time.monotonic):
        self.engine = engine
        self.groups: dict[str, Group] = {}
        #: When and as what each group was last described to the engine (handlers/groups.py).
        self.advertised: dict[str, tuple[float, GroupDescription]] = {}
        self._clock = clock
        self._sweeper: asyncio.Task[None] | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the session-expiry sweep on the loop."""
        self._sweeper = loop.create_task(self._sweep_forever())

    def close(self) -> None:
        """Stop the sweep."""
        if self._sweeper is not None:
            self._sweeper.cancel()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_S)
            self.sweep()

    def sweep(self) -> None:
        """Expire members whose session ran out and finish overdue rebalances."""
        now = self._clock()
        for group in list(self.groups.values()):
            for member in list(group.members.values()):
                waiting = member.join is not None and not member.join.done()
                if not waiting and now - member.last_seen > member.session_timeout_ms / 1000:
                    self._remove(group, member.member_id)
            for pending, since in list(group.pending.items()):
                if now - since > MAX_SESSION_TIMEOUT_MS / 1000:
                    del group.pending[pending]
            if (
                group.state == GroupState.PREPARING_REBALANCE
                and group.rebalance_deadline is not None
                and now >= group.rebalance_deadline
            ):
                for member in list(group.members.values()):
                    if member.join is None:
                        self._remove(group, member.member_id, rebalance=False)
                self._complete_join(group)

    def live(self, group_id: str) -> bool:
        """Whether the group has Kafka-protocol members."""
        group = self.groups.get(group_id)
        return group is not None and bool(group.members)

    # -- membership ----------------------------------------------------------------------------

    async def join(
        self,
        group_id: str,
        member_id: str,
        instance_id: str | None,
        protocol_type: str,
        protocols: list[tuple[str, bytes]],
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        client_id: str,
        host: str,
        require_known_id: bool,
    ) -> dict[str, Any]:
        """JoinGroup: resolves when the join phase ends (or at once with an error)."""
        if not MIN_SESSION_TIMEOUT_MS <= session_timeout_ms <= MAX_SESSION_TIMEOUT_MS:
            return _join_error(errors.INVALID_SESSION_TIMEOUT, member_id)
        group = self.groups.setdefault(group_id, Group(group_id))
        if group.members and (
            protocol_type != group.protocol_type
            or not self._common_protocols(group, {name for name, _ in protocols})
        ):
            return _join_error(errors.INCONSISTENT_GROUP_PROTOCOL, member_id)
        now = self._clock()
        if not member_id:
            member_id = f"{client_id or 'member'}-{uuid.uuid4()}"
            if instance_id is None and require_known_id:
                group.pending[member_id] = now
                return _join_error(errors.MEMBER_ID_REQUIRED, member_id)
        elif member_id not in group.members and member_id not in group.pending:
            return _join_error(errors.UNKNOWN_MEMBER_ID, member_id)
        group.pending.pop(member_id, None)
        if instance_id is not None:
            for other in list(group.members.values()):
                if other.instance_id == instance_id and other.member_id != member_id:
                    self._remove(group, other.member_id, rebalance=False)
        member = group.members.get(member_id)
        if member is None:
            member = Member(
                member_id,
                instance_id,
                client_id,
                host,
                session_timeout_ms,
                rebalance_timeout_ms,
                protocol_type,
                protocols,
                now,
            )
            group.members[member_id] = member
        else:
            member.protocols = protocols
            member.session_timeout_ms = session_timeout_ms
            member.rebalance_timeout_ms = rebalance_timeout_ms
            member.last_seen = now
        group.protocol_type = protocol_type
        if member.join is not None and not member.join.done():
            member.join.set_result(_join_error(errors.UNKNOWN_MEMBER_ID, member_id))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        member.join = future
        if group.state != GroupState.PREPARING_REBALANCE:
            self._prepare(group)
        self._maybe_complete_join(group)
        return await future

    def _common_protocols(self, group: Group, offered: set[str]) -> list[str]:
        common = set(offered)
        for member in group.members.values():
            common &= {name for name, _ in member.protocols}
        return sorted(common)

    def _prepare(self, group: Group) -> None:
        group.state = GroupState.PREPARING_REBALANCE
        for member in group.members.values():
            if member.sync is not None and not member.sync.done():
                member.sync.set_result(
                    {"error_code": errors.REBALANCE_IN_PROGRESS, "assignment": b""}
                )
            member.sync = None
        timeout = max((m.rebalance_timeout_ms for m in group.members.values()), default=0)
        group.rebalance_deadline = self._clock() + timeout / 1000

    def _maybe_complete_join(self, group: Group) -> None:
        if group.state != GroupState.PREPARING_REBALANCE:
            return
        if all(m.join is not None and not m.join.done() for m in group.members.values()):
            self._complete_join(group)

    def _complete_join(self, group: Group) -> None:
        joined = [m for m in group.members.values() if m.join is not None and not m.join.done()]
        if not joined:
            group.state = GroupState.EMPTY
            group.protocol = None
            group.leader = None
            group.generation += 1
            group.rebalance_deadline = None
            return
        group.generation += 1
        first = joined[0]
        candidates = [name for name, _ in first.protocols]
        everyone = set(candidates)
        for member in joined:
            everyone &= {name for name, _ in member.protocols}
        group.protocol = next(name for name in candidates if name in everyone)
        if group.leader not in group.members:
            group.leader = first.member_id
        group.state = GroupState.COMPLETING_REBALANCE
        group.rebalance_deadline = None
        for member in joined:
            is_leader = member.member_id == group.leader
            assert member.join is not None
            member.join.set_result(
                {
                    "error_code": errors.NONE,
                    "generation_id": group.generation,
                    "protocol_type": group.protocol_type,
                    "protocol_name": group.protocol,
                    "leader": group.leader,
                    "member_id": member.member_id,
                    "members": [
                        {
                            "member_id": m.member_id,
                            "group_instance_id": m.instance_id,
                            "metadata": m.metadata_for(group.protocol),
                        }
                        for m in joined
                    ]
                    if is_leader
                    else [],
                }
            )
            member.join = None

    def _remove(self, group: Group, member_id: str, rebalance: bool = True) -> None:
        member = group.members.pop(member_id, None)
        if member is None:
            return
        for future in (member.join, member.sync):
            if future is not None and not future.done():
                future.set_result(_join_error(errors.UNKNOWN_MEMBER_ID, member_id))
        if group.leader == member_id:
            group.leader = None
        if not rebalance:
            return
        if not group.members:
            group.state = GroupState.EMPTY
            group.generation += 1
            group.protocol = None
        elif group.state == GroupState.PREPARING_REBALANCE:
            self._maybe_complete_join(group)
        else:
            self._prepare(group)

    async def sync(
        self, group_id: str, member_id: str, generation: int, assignments: dict[str, bytes]
    ) -> dict[str, Any]:
        """SyncGroup: followers wait for the leader's assignment."""
        group = self.groups.get(group_id)
        member = None if group is None else group.members.get(member_id)
        if group is None or member is None:
            return {"error_code": errors.UNKNOWN_MEMBER_ID, "assignment": b""}
        if generation != group.generation:
            return {"error_code": errors.ILLEGAL_GENERATION, "assignment": b""}
        if group.state == GroupState.PREPARING_REBALANCE:
            return {"error_code": errors.REBALANCE_IN_PROGRESS, "assignment": b""}
        member.last_seen = self._clock()
        if group.state == GroupState.STABLE:
            return self._sync_answer(group, member)
        if member_id == group.leader:
            for other in group.members.values():
                other.assignment = assignments.get(other.member_id, b"")
            group.state = GroupState.STABLE
            for other in group.members.values():
                if other.sync is not None and not other.sync.done():
                    other.sync.set_result(self._sync_answer(group, other))
                other.sync = None
            return self._sync_answer(group, member)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        member.sync = future
        return await future

    def _sync_answer(self, group: Group, member: Member) -> dict[str, Any]:
        return {
            "error_code": errors.NONE,
            "protocol_type": group.protocol_type,
            "protocol_name": group.protocol,
            "assignment": member.assignment,
        }

    def heartbeat(self, group_id: str, member_id: str, generation: int) -> int:
        """Heartbeat: the error that tells the member what to do."""
        group = self.groups.get(group_id)
        member = None if group is None else group.members.get(member_id)
        if group is None or member is None:
            return errors.UNKNOWN_MEMBER_ID
        member.last_seen = self._clock()
        if generation != group.generation:
            return errors.ILLEGAL_GENERATION
        if group.state == GroupState.PREPARING_REBALANCE:
            return errors.REBALANCE_IN_PROGRESS
        return errors.NONE

    def leave(self, group_id: str, member_id: str) -> int:
        """LeaveGroup for one member."""
        group = self.groups.get(group_id)
        if group is None or member_id not in group.members:
            return errors.UNKNOWN_MEMBER_ID
        self._remove(group, member_id)
        return errors.NONE

    def leave_instance(self, group_id: str, instance_id: str) -> tuple[int, str]:
        """LeaveGroup v3+ by static instance id: (error, member id)."""
        group = self.groups.get(group_id)
        for member in [] if group is None else list(group.members.values()):
            if member.instance_id == instance_id:
                return self.leave(group_id, member.member_id), member.member_id
        return errors.UNKNOWN_MEMBER_ID, ""

    def check_commit(self, group_id: str, member_id: str, generation: int) -> int:
        """Whether a member may commit offsets (simple commits need an empty group)."""
        group = self.groups.get(group_id)
        if group is None or not group.members:
            if generation < 0 and not member_id:
                return errors.NONE
            return errors.NONE if group is None else errors.UNKNOWN_MEMBER_ID
        member = group.members.get(member_id)
        if member is None:
            return errors.UNKNOWN_MEMBER_ID
        if generation != group.generation:
            return errors.ILLEGAL_GENERATION
        if group.state == GroupState.COMPLETING_REBALANCE:
            return errors.REBALANCE_IN_PROGRESS
        member.last_seen = self._clock()
        return errors.NONE

    def forget(self, group_id: str) -> None:
        """Drop an empty group (DeleteGroups)."""
        group = self.groups.get(group_id)
        if group is not None and not group.members:
            del self.groups[group_id]


def _join_error(code: int, member_id: str) -> dict[str, Any]:
    return {
        "error_code": code,
        "generation_id": -1,
        "protocol_name": None,
        "leader": "",
        "member_id": member_id,
        "members": [],
    }
