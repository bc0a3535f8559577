"""Kafka's StandardAuthorizer semantics: a table of cases, properties that hold for every ACL
set, and the indexed authorizer against the linear model in tests/acl/reference.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acl.authorizer import AclIndex, AuthorizerSettings, StandardAuthorizer
from acl.model import Acl, AclError, Operation, PatternType, Permission, ResourceType
from engine.auth import Authorizer
from tests.acl.reference import allowed as reference_allowed

T, G, C, S, X = (
    ResourceType.TOPIC,
    ResourceType.GROUP,
    ResourceType.CLUSTER,
    ResourceType.SUBJECT,
    ResourceType.TRANSACTIONAL_ID,
)
LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = Permission.ALLOW, Permission.DENY
Op = Operation


def acl(
    rt: ResourceType,
    name: str,
    principal: str,
    op: Operation,
    permission: Permission = ALLOW,
    pattern: PatternType = LIT,
    host: str = "*",
) -> Acl:
    return Acl(rt, name, pattern, principal, host, op, permission)


ALICE = "User:alice"
BOB = "User:bob"

# (ACLs, settings, principal, operation, resource type, name, host, expected)
CASES: list[
    tuple[str, list[Acl], AuthorizerSettings, str, Operation, ResourceType, str, str | None, bool]
] = [
    ("no ACLs, default deny", [], AuthorizerSettings(), ALICE, Op.READ, T, "orders", None, False),
    (
        "no ACLs, allow everyone",
        [],
        AuthorizerSettings(frozenset(), True),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        True,
    ),
    (
        "someone else's ACL still denies with allow everyone",
        [acl(T, "orders", BOB, Op.READ)],
        AuthorizerSettings(frozenset(), True),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "literal allow",
        [acl(T, "orders", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        True,
    ),
    (
        "literal is exact",
        [acl(T, "orders", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders2",
        None,
        False,
    ),
    (
        "prefixed allow",
        [acl(T, "ord", ALICE, Op.WRITE, pattern=PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "prefix longer than name",
        [acl(T, "orders-x", ALICE, Op.WRITE, pattern=PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        T,
        "orders",
        None,
        False,
    ),
    (
        "wildcard resource",
        [acl(T, "*", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "anything",
        None,
        True,
    ),
    (
        "prefixed * is not a wildcard",
        [acl(T, "*", ALICE, Op.READ, pattern=PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "anything",
        None,
        False,
    ),
    (
        "wildcard principal",
        [acl(T, "orders", "User:*", Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        True,
    ),
    (
        "other principal type",
        [acl(T, "orders", "Group:alice", Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "deny wins over allow",
        [acl(T, "orders", ALICE, Op.READ), acl(T, "orders", ALICE, Op.READ, DENY)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "prefixed deny wins over literal allow",
        [acl(T, "orders", ALICE, Op.ALL), acl(T, "o", "User:*", Op.WRITE, DENY, PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        T,
        "orders",
        None,
        False,
    ),
    (
        "deny of another op leaves this one",
        [acl(T, "orders", ALICE, Op.ALL), acl(T, "orders", ALICE, Op.WRITE, DENY)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        True,
    ),
    (
        "deny ALL denies every op",
        [acl(T, "orders", ALICE, Op.READ), acl(T, "*", ALICE, Op.ALL, DENY)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "ALL allows any op",
        [acl(T, "orders", ALICE, Op.ALL)],
        AuthorizerSettings(),
        ALICE,
        Op.ALTER_CONFIGS,
        T,
        "orders",
        None,
        True,
    ),
    (
        "READ implies DESCRIBE",
        [acl(T, "orders", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "WRITE implies DESCRIBE",
        [acl(T, "orders", ALICE, Op.WRITE)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "DELETE implies DESCRIBE",
        [acl(T, "orders", ALICE, Op.DELETE)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "ALTER implies DESCRIBE",
        [acl(T, "orders", ALICE, Op.ALTER)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "CREATE does not imply DESCRIBE",
        [acl(T, "orders", ALICE, Op.CREATE)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        False,
    ),
    (
        "ALTER_CONFIGS implies DESCRIBE_CONFIGS",
        [acl(T, "orders", ALICE, Op.ALTER_CONFIGS)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE_CONFIGS,
        T,
        "orders",
        None,
        True,
    ),
    (
        "ALTER_CONFIGS does not imply DESCRIBE",
        [acl(T, "orders", ALICE, Op.ALTER_CONFIGS)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        False,
    ),
    (
        "READ does not imply WRITE",
        [acl(T, "orders", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        T,
        "orders",
        None,
        False,
    ),
    (
        "deny READ does not deny DESCRIBE",
        [acl(T, "orders", ALICE, Op.DESCRIBE), acl(T, "orders", ALICE, Op.READ, DENY)],
        AuthorizerSettings(),
        ALICE,
        Op.DESCRIBE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "super user over deny",
        [acl(T, "orders", ALICE, Op.ALL, DENY)],
        AuthorizerSettings(frozenset({ALICE})),
        ALICE,
        Op.WRITE,
        T,
        "orders",
        None,
        True,
    ),
    (
        "super user with no ACLs",
        [],
        AuthorizerSettings(frozenset({ALICE})),
        ALICE,
        Op.ALTER,
        C,
        "kafka-cluster",
        None,
        True,
    ),
    (
        "host must equal",
        [acl(T, "orders", ALICE, Op.READ, host="10.0.0.1")],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        "10.0.0.2",
        False,
    ),
    (
        "host equal",
        [acl(T, "orders", ALICE, Op.READ, host="10.0.0.1")],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        "10.0.0.1",
        True,
    ),
    (
        "unknown host: only * applies",
        [acl(T, "orders", ALICE, Op.READ, host="10.0.0.1")],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "deny from one host",
        [acl(T, "orders", ALICE, Op.READ), acl(T, "orders", ALICE, Op.READ, DENY, host="10.0.0.9")],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        "10.0.0.9",
        False,
    ),
    (
        "resource types are separate",
        [acl(G, "orders", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        T,
        "orders",
        None,
        False,
    ),
    (
        "group read",
        [acl(G, "app", ALICE, Op.READ)],
        AuthorizerSettings(),
        ALICE,
        Op.READ,
        G,
        "app",
        None,
        True,
    ),
    (
        "subject write",
        [acl(S, "orders-", ALICE, Op.WRITE, pattern=PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        S,
        "orders-value",
        None,
        True,
    ),
    (
        "cluster create",
        [acl(C, "kafka-cluster", ALICE, Op.CREATE)],
        AuthorizerSettings(),
        ALICE,
        Op.CREATE,
        C,
        "kafka-cluster",
        None,
        True,
    ),
    (
        "transactional id",
        [acl(X, "tx-", ALICE, Op.WRITE, pattern=PRE)],
        AuthorizerSettings(),
        ALICE,
        Op.WRITE,
        X,
        "tx-1",
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("acls", "config", "principal", "op", "rt", "name", "host", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_semantics(
    acls: list[Acl],
    config: AuthorizerSettings,
    principal: str,
    op: Operation,
    rt: ResourceType,
    name: str,
    host: str | None,
    expected: bool,
) -> None:
    index = AclIndex(acls)
    assert index.decide(config, principal, op, rt, name, host).allowed is expected
    assert reference_allowed(acls, config, principal, op, rt, name, host) is expected


def test_decision_names_the_deciding_acl() -> None:
    deny = acl(T, "ord", "User:*", Op.WRITE, DENY, PRE)
    index = AclIndex([acl(T, "orders", ALICE, Op.ALL), deny])
    decision = index.decide(AuthorizerSettings(), ALICE, Op.WRITE, T, "orders")
    assert decision.acl == deny and not decision.allowed
    assert index.decide(AuthorizerSettings(), BOB, Op.READ, T, "x").reason == "no ACL matched"


def test_standard_authorizer_is_the_engine_protocol() -> None:
    authorizer = StandardAuthorizer(AclIndex([acl(T, "orders", ALICE, Op.READ)]))
    assert isinstance(authorizer, Authorizer)
    assert authorizer.authorize(ALICE, "DESCRIBE", "TOPIC", "orders")
    assert not authorizer.authorize(ALICE, "WRITE", "TOPIC", "orders")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "must not be empty"),
        ({"principal": "alice"}, "Type:name"),
        ({"principal": "Group:*"}, "only wildcard principal"),
        ({"resource_type": C, "name": "other"}, "kafka-cluster"),
        ({"operation": Op.IDEMPOTENT_WRITE}, "not valid on TOPIC"),
        ({"resource_type": G, "operation": Op.WRITE}, "not valid on GROUP"),
        ({"pattern_type": PatternType.MATCH}, "LITERAL or PREFIXED"),
    ],
)
def test_invalid_acls_are_refused(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "resource_type": T,
        "name": "orders",
        "pattern_type": LIT,
        "principal": ALICE,
        "host": "*",
        "operation": Op.READ,
        "permission": ALLOW,
    }
    with pytest.raises(AclError, match=message):
        Acl(**{**base, **fields})  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------------------

NAMES = st.sampled_from(["o", "or", "orders", "orders-v1", "p", "pay", "*", "x"])
PRINCIPALS = st.sampled_from([ALICE, BOB, "User:*", "User:carol"])
HOSTS = st.sampled_from(["*", "10.0.0.1", "10.0.0.2"])
TYPES = st.sampled_from([T, G, S, X])


@st.composite
def acls(draw: st.DrawFn) -> Acl:
    rt = draw(TYPES)
    from acl.model import VALID_OPERATIONS

    ops = [*sorted(VALID_OPERATIONS[rt]), Op.ALL]
    return Acl(
        rt,
        draw(NAMES),
        draw(st.sampled_from([LIT, PRE])),
        draw(PRINCIPALS),
        draw(HOSTS),
        draw(st.sampled_from(ops)),
        draw(st.sampled_from([ALLOW, DENY])),
    )


REQUESTS = st.tuples(
    st.sampled_from([ALICE, BOB, "User:carol"]),
    st.sampled_from(list(Op)),
    TYPES,
    st.sampled_from(["o", "orders", "orders-v1", "pay", "payments", "*", "zzz"]),
    st.sampled_from([None, "10.0.0.1", "10.0.0.2"]),
)
CONFIGS = st.builds(
    AuthorizerSettings,
    st.frozensets(st.sampled_from([ALICE, "User:dave"]), max_size=1),
    st.booleans(),
)


@settings(max_examples=400)
@given(st.lists(acls(), max_size=25), CONFIGS, REQUESTS)
def test_index_agrees_with_the_linear_model(
    bindings: list[Acl], config: AuthorizerSettings, req: tuple
) -> None:
    principal, op, rt, name, host = req
    index = AclIndex(bindings)
    got = index.decide(config, principal, op, rt, name, host).allowed
    assert got is reference_allowed(bindings, config, principal, op, rt, name, host)


@settings(max_examples=300)
@given(st.lists(acls(), max_size=25), st.lists(acls(), max_size=10), CONFIGS, REQUESTS)
def test_index_stays_right_after_removals(
    bindings: list[Acl], removed: list[Acl], config: AuthorizerSettings, req: tuple
) -> None:
    index = AclIndex(bindings + removed)
    for item in removed:
        index.remove(item)
    left = [b for b in set(bindings) if b not in set(removed)]
    assert sorted(index) == sorted(left)
    principal, op, rt, name, host = req
    got = index.decide(config, principal, op, rt, name, host).allowed
    assert got is reference_allowed(left, config, principal, op, rt, name, host)


@given(st.lists(acls(), max_size=20), acls(), CONFIGS, REQUESTS)
def test_adding_a_deny_never_grants(
    bindings: list[Acl], extra: Acl, config: AuthorizerSettings, req: tuple
) -> None:
    principal, op, rt, name, host = req
    deny = Acl(extra.resource_type, extra.name, extra.pattern_type, extra.principal,
               extra.host, extra.operation, DENY)  # fmt: skip
    before = AclIndex(bindings).decide(config, principal, op, rt, name, host).allowed
    after = AclIndex([*bindings, deny]).decide(config, principal, op, rt, name, host).allowed
    assert not (after and not before)


@given(st.lists(acls(), max_size=20), acls(), CONFIGS, REQUESTS)
def test_adding_an_allow_never_revokes(
    bindings: list[Acl], extra: Acl, config: AuthorizerSettings, req: tuple
) -> None:
    principal, op, rt, name, host = req
    allow = Acl(extra.resource_type, extra.name, extra.pattern_type, extra.principal,
                extra.host, extra.operation, ALLOW)  # fmt: skip
    before = AclIndex(bindings).decide(config, principal, op, rt, name, host).allowed
    after = AclIndex([*bindings, allow]).decide(config, principal, op, rt, name, host).allowed
    # With allow.everyone.if.no.acl.found an ALLOW for someone else takes the default away,
    # as in Kafka; without it an ALLOW never revokes.
    if not config.allow_everyone_if_no_acl_found:
        assert not (before and not after)


@given(st.lists(acls(), max_size=20), REQUESTS)
def test_super_users_always_pass(bindings: list[Acl], req: tuple) -> None:
    principal, op, rt, name, host = req
    config = AuthorizerSettings(frozenset({principal}))
    assert AclIndex(bindings).decide(config, principal, op, rt, name, host).allowed
