"""The `_acls` fold: commands, refusals, snapshots; and the service over a real embedded log."""

from __future__ import annotations

from pathlib import Path

import pytest

from acl import state as commands
from acl.credentials import make_credential, verify_password
from acl.model import Acl, AclError, AclFilter, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from acl.state import NotFoundError, Token
from engine.embedded import EmbeddedCluster

READ = Acl(ResourceType.TOPIC, "orders", PatternType.LITERAL, "User:alice", "*",
           Operation.READ, Permission.ALLOW)  # fmt: skip
DENY = Acl(ResourceType.TOPIC, "ord", PatternType.PREFIXED, "User:*", "*",
           Operation.WRITE, Permission.DENY)  # fmt: skip


def test_add_remove_and_filters() -> None:
    state = commands.initial_state()
    fold = commands.FOLD
    assert fold.apply(state, commands.add_acls([READ, DENY])) == sorted([READ, DENY])
    assert sorted(state.acls) == sorted([READ, DENY])
    assert fold.apply(state, commands.add_acls([READ])) == []
    removed = fold.apply(
        state, commands.remove_acls([AclFilter(name="orders", pattern_type=PatternType.MATCH)])
    )
    assert sorted(removed) == sorted([READ, DENY])
    assert list(state.acls) == []


def test_match_filter_selects_what_applies() -> None:
    match = AclFilter(ResourceType.TOPIC, "orders", PatternType.MATCH)
    assert match.matches(READ) and match.matches(DENY)
    assert not AclFilter(ResourceType.TOPIC, "orders", PatternType.ANY).matches(DENY)
    assert AclFilter(ResourceType.TOPIC, "ord", PatternType.PREFIXED).matches(DENY)
    assert not AclFilter(ResourceType.TOPIC, "ord", PatternType.LITERAL).matches(DENY)


def test_bad_commands_are_refused_and_change_nothing() -> None:
    state = commands.initial_state()
    bad = commands.add_acls([READ])
    bad["acls"][0]["operation"] = "Fly"
    with pytest.raises(AclError, match="unknown operation"):
        commands.FOLD.apply(state, bad)
    with pytest.raises(NotFoundError):
        commands.FOLD.apply(state, commands.delete_user("nobody"))
    with pytest.raises(NotFoundError):
        commands.FOLD.apply(state, commands.add_token(Token("t1", "nobody", "d", 0.0)))
    assert len(state.acls) == 0 and not state.users


def test_snapshot_round_trip() -> None:
    fold = commands.FOLD
    state = commands.initial_state()
    fold.apply(state, commands.add_acls([READ, DENY]))
    cred = make_credential("SCRAM-SHA-256", "pw")
    fold.apply(state, commands.set_user("alice", {"SCRAM-SHA-256": cred}))
    fold.apply(state, commands.add_token(Token("t1", "alice", "d", 1.0)))
    fold.apply(state, commands.set_settings(["User:admin"], True))
    assert fold.snapshot is not None
    copy = fold.snapshot.load(iter(list(fold.snapshot.dump(state))))
    assert sorted(copy.acls) == sorted(state.acls)
    assert copy.users == state.users and copy.tokens == state.tokens
    assert copy.settings == state.settings


def test_service_over_an_embedded_log(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "c")
    try:
        first = AccessControl(cluster).start()
        first.add([READ])
        first.add_user("alice", "s3cret")
        token = first.issue_token("alice")
        first.configure(["User:admin"])
        second = AccessControl(cluster).start()  # another instance reads the same log
        assert second.acls() == [READ]
        assert second.decide("User:alice", "DESCRIBE", "TOPIC", "orders").allowed
        assert second.decide("User:admin", "ALTER", "CLUSTER", "kafka-cluster").allowed
        assert second.check_password("alice", "s3cret")
        assert not second.check_password("alice", "wrong")
        assert second.check_token(token) == "alice"
        assert second.check_token(token[:-1] + "x") is None
        first.delete_user("alice")
        second.sync()
        assert second.check_token(token) is None and not second.check_password("alice", "s3cret")
        second.close()
        first.close()
    finally:
        cluster.close()


def test_no_password_is_stored() -> None:
    cred = make_credential("SCRAM-SHA-512", "correct horse")
    assert b"correct horse" not in repr(cred.to_dict()).encode()
    assert verify_password(cred, "correct horse") and not verify_password(cred, "")
