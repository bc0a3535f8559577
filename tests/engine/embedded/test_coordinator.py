"""The group coordinator as a state machine: random joins, heartbeats, leaves and clock jumps
never break the rebalance invariants."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine.embedded import groups
from engine.embedded.groups import HeartbeatStatus, MemberSpec
from engine.embedded.sqlite import connect
from engine.types import GroupState, TopicPartition

PARTITIONS = {"a": 3, "b": 2}
SESSION_MS = 1000
REBALANCE_MS = 3000


def counts(topics: Iterable[str]) -> dict[str, int]:
    return {t: PARTITIONS[t] for t in topics if t in PARTITIONS}


class Coordinator(RuleBasedStateMachine):
    """Drives groups.py with a simulated clock; members follow the protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000_000
        self.members: dict[str, tuple[str, ...]] = {}  # member id -> topics
        self.generations: list[int] = []

    @initialize()
    def open(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="streamgov-coordinator-"))
        self.conn: sqlite3.Connection = connect(self.root / "g.db", create=True)
        groups.init_groups(self.conn)

    def answer(self, answer: groups.Heartbeat) -> None:
        if answer.status == HeartbeatStatus.UNKNOWN_MEMBER:
            self.members.pop(answer.member_id, None)

    @rule(topics=st.sampled_from([("a",), ("b",), ("a", "b")]))
    def join(self, topics: tuple[str, ...]) -> None:
        spec = MemberSpec("c", "h", topics, "range", SESSION_MS, REBALANCE_MS)
        answer = groups.join(self.conn, "g", None, spec, self.now, counts)
        self.members[answer.member_id] = topics

    @rule(data=st.data())
    def heartbeat_or_rejoin(self, data: st.DataObject) -> None:
        if not self.members:
            return
        self.beat(data.draw(st.sampled_from(sorted(self.members))))

    @rule()
    def everyone_heartbeats(self) -> None:
        for member in sorted(self.members):
            if member in self.members:
                self.beat(member)

    def beat(self, member: str) -> None:
        answer = groups.heartbeat(self.conn, "g", member, self.now, counts)
        if answer.status == HeartbeatStatus.REJOIN:
            spec = MemberSpec("c", "h", self.members[member], "range", SESSION_MS, REBALANCE_MS)
            answer = groups.join(self.conn, "g", member, spec, self.now, counts)
        self.answer(answer)

    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        if not self.members:
            return
        member = data.draw(st.sampled_from(sorted(self.members)))
        groups.leave(self.conn, "g", member, self.now, counts)
        del self.members[member]

    @rule(ms=st.sampled_from([10, 400, 1500, 4000]))
    def time_passes(self, ms: int) -> None:
        self.now += ms
        description = groups.describe(self.conn, "g", self.now, counts)
        live = {m.member_id for m in description.members}
        for member in list(self.members):
            if member not in live:
                del self.members[member]  # expired: its process would rejoin as a new member

    @invariant()
    def stable_groups_cover_every_partition_once(self) -> None:
        if not hasattr(self, "conn"):
            return
        description = groups.describe(self.conn, "g", self.now, counts)
        live = {m.member_id for m in description.members}
        assert live <= set(self.members)
        self.members = {m: t for m, t in self.members.items() if m in live}
        if description.state == GroupState.STABLE:
            assigned = [tp for m in description.members for tp in m.assignment]
            wanted = {
                TopicPartition(t, p)
                for topics in self.members.values()
                for t in topics
                for p in range(PARTITIONS[t])
            }
            assert len(assigned) == len(set(assigned))
            assert set(assigned) == wanted
            for m in description.members:
                assert all(tp.topic in self.members[m.member_id] for tp in m.assignment)
        if not description.members:
            assert description.state in (GroupState.EMPTY, GroupState.DEAD)
        self.generations.append(description.generation)
        assert self.generations == sorted(self.generations)

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.conn.close()
            shutil.rmtree(self.root, ignore_errors=True)


TestCoordinator = Coordinator.TestCase
TestCoordinator.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
