"""The registry fold: ids, versions, deletes, references, config and mode, with no I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.statelog import CommandError, Unchanged
from registry import errors
from registry.formats.base import SchemaReference, SchemaType
from registry.store import (
    Mode,
    RegistryState,
    apply,
    delete_subject_command,
    delete_version_command,
    dump_state,
    initial_state,
    load_state,
    register_command,
    set_config_command,
    set_mode_command,
    validate,
)

AVRO = SchemaType.AVRO


def record(name: str, *fields: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": f, "type": "int"} for f in fields]}
    )


def fresh(level: str = "NONE") -> RegistryState:
    state = initial_state()
    apply(state, {"op": "set_config", "subject": None, "compatibility": level})
    return state


def register(state: RegistryState, subject: str, schema: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = apply(state, register_command(subject, AVRO, schema, **kwargs))
    return result


def code_of(excinfo: pytest.ExceptionInfo[errors.RegistryError]) -> int:
    return excinfo.value.error_code


def test_same_schema_gets_same_id_in_every_subject_and_versions_count_per_subject() -> None:
    state = fresh()
    a = register(state, "a", record("A", "x"))
    b = register(state, "b", record("A", "x"))
    c = register(state, "a", record("C", "y"))
    assert (a["id"], a["version"]) == (1, 1)
    assert (b["id"], b["version"]) == (1, 1)
    assert (c["id"], c["version"]) == (2, 2)


def test_registering_again_returns_the_existing_version_without_change() -> None:
    state = fresh()
    first = register(state, "a", record("A", "x"))
    again = register(state, "a", record("A", "x"))
    assert again == {**first, "existing": True}
    assert [v.version for v in state.versions_of("a")] == [1]


def test_invalid_schema_is_42201_and_leaves_state_untouched() -> None:
    state = fresh()
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "a", '{"type": "record", "name": "A"}')
    assert code_of(excinfo) == errors.INVALID_SCHEMA
    assert state.subjects == {} and state.next_id == 1


def test_soft_deleted_version_hides_but_id_still_resolves_and_ids_are_not_reused() -> None:
    state = fresh()
    register(state, "a", record("A", "x"))
    assert apply(state, {"op": "delete_version", "subject": "a", "version": 1}) == 1
    assert state.versions_of("a") == []
    assert state.visible_schema(1) is not None
    again = register(state, "a", record("A", "x"))
    assert (again["id"], again["version"]) == (1, 2)
    # re-registration retired the soft-deleted copy of the same id
    assert [v.version for v in state.versions_of("a", include_deleted=True)] == [2]
    other = register(state, "a", record("B", "y"))
    assert other["id"] == 2


def test_permanent_delete_needs_a_soft_delete_first() -> None:
    state = fresh()
    register(state, "a", record("A", "x"))
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_version", "subject": "a", "version": 1, "permanent": True})
    assert code_of(excinfo) == errors.VERSION_NOT_SOFT_DELETED
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_subject", "subject": "a", "permanent": True})
    assert code_of(excinfo) == errors.SUBJECT_NOT_SOFT_DELETED
    assert apply(state, {"op": "delete_subject", "subject": "a"}) == [1]
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_subject", "subject": "a"})
    assert code_of(excinfo) == errors.SUBJECT_SOFT_DELETED
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_version", "subject": "a", "version": 1})
    assert code_of(excinfo) == errors.VERSION_SOFT_DELETED
    assert apply(state, {"op": "delete_subject", "subject": "a", "permanent": True}) == [1]
    assert state.visible_schema(1) is None
    # after a permanent delete neither the version number nor a new id is handed out again
    after = register(state, "a", record("Z", "z"))
    assert (after["id"], after["version"]) == (2, 2)
    # the same schema keeps its id
    assert register(state, "b", record("A", "x"))["id"] == 1


def test_missing_subject_and_version_errors() -> None:
    state = fresh()
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_subject", "subject": "nope"})
    assert code_of(excinfo) == errors.SUBJECT_NOT_FOUND
    register(state, "a", record("A", "x"))
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_version", "subject": "a", "version": 7})
    assert code_of(excinfo) == errors.VERSION_NOT_FOUND


def test_references_resolve_and_block_deletes_until_the_referrer_is_gone() -> None:
    state = fresh()
    register(state, "addr", record("com.example.Address", "street"))
    ref = SchemaReference("com.example.Address", "addr", 1)
    user = json.dumps(
        {
            "type": "record",
            "name": "User",
            "fields": [{"name": "home", "type": "com.example.Address"}],
        }
    )
    out = register(state, "user", user, references=[ref])
    assert state.referrers[("addr", 1)] == {("user", 1)}
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_version", "subject": "addr", "version": 1})
    assert code_of(excinfo) == errors.REFERENCE_EXISTS
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_subject", "subject": "addr"})
    assert code_of(excinfo) == errors.REFERENCE_EXISTS
    apply(state, {"op": "delete_version", "subject": "user", "version": 1})
    assert ("addr", 1) not in state.referrers
    assert apply(state, {"op": "delete_version", "subject": "addr", "version": 1}) == 1
    assert state.schemas[out["id"]].references == (ref,)


def test_reference_to_a_missing_version_is_invalid() -> None:
    state = fresh()
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "user", record("U", "x"), references=[SchemaReference("X", "nope", 1)])
    assert code_of(excinfo) == errors.INVALID_SCHEMA


def test_config_scopes_and_defaults() -> None:
    state = initial_state()
    assert state.compatibility("s").value == "BACKWARD"
    apply(state, {"op": "set_config", "subject": "s", "compatibility": "full"})
    assert state.compatibility("s").value == "FULL"
    assert state.compatibility("other").value == "BACKWARD"
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "set_config", "subject": None, "compatibility": "SIDEWAYS"})
    assert code_of(excinfo) == errors.INVALID_COMPATIBILITY_LEVEL
    assert apply(state, {"op": "delete_config", "subject": "s"}) == {"compatibilityLevel": "FULL"}
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "delete_config", "subject": "s"})
    assert code_of(excinfo) == errors.SUBJECT_NOT_FOUND


def test_readonly_mode_refuses_writes() -> None:
    state = fresh()
    register(state, "a", record("A", "x"))
    apply(state, {"op": "set_mode", "subject": "a", "mode": "READONLY"})
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "a", record("B", "y"))
    assert code_of(excinfo) == errors.OPERATION_NOT_PERMITTED
    assert "read-only" in str(excinfo.value)
    with pytest.raises(errors.RegistryError):
        apply(state, {"op": "delete_subject", "subject": "a"})
    register(state, "b", record("B", "y"))  # other subjects stay writable


def test_import_mode_rules() -> None:
    state = fresh()
    register(state, "a", record("A", "x"))
    with pytest.raises(errors.RegistryError) as excinfo:
        apply(state, {"op": "set_mode", "subject": None, "mode": "IMPORT"})
    assert code_of(excinfo) == errors.OPERATION_NOT_PERMITTED
    apply(state, {"op": "set_mode", "subject": None, "mode": "IMPORT", "force": True})
    assert state.mode("x") is Mode.IMPORT
    # explicit id and version, no compatibility checks
    out = register(state, "imp", record("I", "x"), schema_id=100, version=5)
    assert (out["id"], out["version"]) == (100, 5)
    # a different schema under a taken id is refused
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "imp", record("J", "y"), schema_id=100, version=6)
    assert code_of(excinfo) == errors.OPERATION_NOT_PERMITTED
    # a known schema imported under another id is refused
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "imp2", record("A", "x"), schema_id=300)
    assert code_of(excinfo) == errors.ID_DOES_NOT_MATCH
    assert register(state, "imp2", record("A", "x"), schema_id=1)["id"] == 1
    # without an id, IMPORT refuses
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "imp", record("K", "z"))
    assert "read-write" in str(excinfo.value)
    apply(state, {"op": "set_mode", "subject": None, "mode": "READWRITE"})
    # new ids continue above imported ones
    assert register(state, "n", record("N", "n"))["id"] == 101
    # an explicit id outside IMPORT mode is refused
    with pytest.raises(errors.RegistryError) as excinfo:
        register(state, "n", record("M", "m"), schema_id=500)
    assert "import mode" in str(excinfo.value)


def test_validate_changes_nothing() -> None:
    state = fresh()
    command = register_command("a", AVRO, record("A", "x"))
    assert validate(state, command) == {"id": 1, "version": 1, "existing": False}
    assert state.subjects == {}


def test_malformed_and_unknown_commands_are_command_errors() -> None:
    state = fresh()
    for command in ({"op": "explode"}, {"op": "register"}, {"nothing": 1}):
        with pytest.raises(CommandError):
            apply(state, command)
        with pytest.raises(CommandError):
            validate(state, command)


# -- properties ------------------------------------------------------------------------------------
POOL = [record(f"R{i}", "x") for i in range(5)]
SUBJECTS = ["s1", "s2", "s3"]

commands = st.one_of(
    st.builds(
        lambda s, i: register_command(s, AVRO, POOL[i]),
        st.sampled_from(SUBJECTS),
        st.integers(0, len(POOL) - 1),
    ),
    st.builds(
        delete_version_command,
        st.sampled_from(SUBJECTS),
        st.integers(1, 6),
        st.booleans(),
    ),
    st.builds(delete_subject_command, st.sampled_from(SUBJECTS), st.booleans()),
)


def run(log: list[dict[str, Any]]) -> tuple[RegistryState, list[Any]]:
    state = fresh()
    outcomes: list[Any] = []
    for command in log:
        try:
            outcomes.append(apply(state, command))
        except errors.RegistryError as exc:
            outcomes.append(("error", exc.error_code))
    return state, outcomes


@settings(max_examples=150, deadline=None)
@given(st.lists(commands, max_size=40))
def test_ids_are_unique_per_schema_and_never_reused(log: list[dict[str, Any]]) -> None:
    state, outcomes = run(log)
    id_of_schema: dict[str, int] = {}
    versions_handed_out: set[tuple[str, int]] = set()
    for command, outcome in zip(log, outcomes, strict=True):
        if command["op"] != "register" or isinstance(outcome, tuple):
            continue
        schema_id = id_of_schema.setdefault(command["schema"], outcome["id"])
        assert outcome["id"] == schema_id, "one schema got two ids"
        key = (command["subject"], outcome["version"])
        if not outcome["existing"]:
            assert key not in versions_handed_out, "a version number was reused"
            versions_handed_out.add(key)
    assert len(set(id_of_schema.values())) == len(id_of_schema), "two schemas got one id"
    for stored in state.schemas.values():
        assert id_of_schema[stored.schema] == stored.id


@settings(max_examples=60, deadline=None)
@given(st.lists(commands, max_size=30))
def test_replay_is_deterministic(log: list[dict[str, Any]]) -> None:
    first, outcomes_a = run(log)
    second, outcomes_b = run(json.loads(json.dumps(log)))
    assert outcomes_a == outcomes_b
    assert first == second


# -- snapshots -------------------------------------------------------------------------------------
def legacy_command(subject: str, text: str) -> dict[str, Any]:
    """A register command as written before identities were canonical strings."""
    built = register_command(subject, AVRO, text)
    del built["canonical"]
    return built


REFERRING = record("Holder", "y")
richer_commands = st.one_of(
    commands,
    st.builds(
        lambda s, i, v: register_command(
            s,
            AVRO,
            json.dumps(
                {"type": "record", "name": f"H{i}", "fields": [{"name": "r", "type": "R0"}]}
            ),
            [SchemaReference("R0", "s1", v)],
        ),
        st.sampled_from(SUBJECTS),
        st.integers(0, 2),
        st.integers(1, 3),
    ),
    st.builds(
        lambda s, i: legacy_command(s, POOL[i].replace(",", ", ")),
        st.sampled_from(SUBJECTS),
        st.integers(0, len(POOL) - 1),
    ),
    st.builds(
        lambda s, i, n: register_command(s, AVRO, POOL[i], schema_id=n, version=n),
        st.sampled_from(SUBJECTS),
        st.integers(0, len(POOL) - 1),
        st.integers(1, 9),
    ),
    st.builds(
        lambda s, m: set_mode_command(s, m, force=True),
        st.sampled_from([None, *SUBJECTS]),
        st.sampled_from(list(Mode)),
    ),
    st.builds(
        set_config_command,
        st.sampled_from([None, *SUBJECTS]),
        st.sampled_from(["NONE", "BACKWARD", "FULL_TRANSITIVE"]),
        st.sampled_from([None, True, False]),
    ),
)


def comparable(state: RegistryState) -> RegistryState:
    """The state with empty usage sets dropped (a version's id once used reads the same)."""
    state.usages = {k: v for k, v in state.usages.items() if v}
    return state


@settings(max_examples=150, deadline=None)
@given(st.lists(richer_commands, max_size=40))
def test_a_snapshot_restores_the_same_state(log: list[dict[str, Any]]) -> None:
    state, _ = run(log)
    pieces = json.loads(json.dumps(list(dump_state(state))))
    restored = load_state(iter(pieces))
    assert comparable(restored) == comparable(state)
    # and the restored state folds the next commands exactly as the original does
    follow = [register_command("s2", AVRO, POOL[1]), delete_subject_command("s1")]
    for command in follow:
        outcomes = []
        for each in (state, restored):
            try:
                outcomes.append(apply(each, command))
            except errors.RegistryError as exc:
                outcomes.append(exc.error_code)
        assert outcomes[0] == outcomes[1]
    assert comparable(restored) == comparable(state)


def test_an_existing_registration_validates_as_unchanged() -> None:
    state = fresh()
    first = register(state, "a", record("A", "x"))
    found = validate(state, register_command("a", AVRO, record("A", "x")))
    assert found == Unchanged({**first, "existing": True})
