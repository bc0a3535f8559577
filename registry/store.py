"""The registry's state and the fold that builds it from the `_schemas` log. Pure: no I/O.

Every registry instance reads the same commands in the same order and runs `apply` on each,
so every instance computes the same state. Schema ids and versions are assigned here, by log
order, which is why two instances can never give one schema two ids or two schemas one id.
Compatibility is decided here as well: another instance may have registered a version between
the moment a request was validated and the moment its command reached the log.

`FOLD` is the registry's `engine.statelog.Fold`: one handler per command, each run by `apply`
(changing the state) and by `validate` (changing nothing, before the service appends), so bad
input and rejected commands rarely reach the log (and a registration of an already-registered
schema never does: its outcome is `Unchanged`). Commands are built only by the constructors
below (`register_command`, `delete_subject_command`, ...). `SNAPSHOT` writes and reads the
state for the state log's snapshots, without parsing a single schema.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from engine.statelog import Command, Fold, Handler, SnapshotCodec, Unchanged, command
from registry import errors
from registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    VersionedSchema,
    check,
)
from registry.formats import (
    DEFAULT_LIMITS,
    ParsedSchema,
    ResolvedReference,
    SchemaReference,
    SchemaType,
    parse_schema,
)

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
MAX_VERSION = 2**31 - 1

Json = Any


class Mode(StrEnum):
    """Registry modes: READWRITE, READONLY (no writes), IMPORT (explicit ids, no checks)."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"

    @classmethod
    def parse(cls, value: object) -> Mode:
        """Parse a mode name case-insensitively; raises 42204 for anything else."""
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        raise errors.invalid_mode()


def parse_level(value: object) -> CompatibilityLevel:
    """Parse a compatibility level case-insensitively; raises 42203 for anything else."""
    if isinstance(value, str):
        try:
            return CompatibilityLevel.parse(value)
        except ValueError:
            pass
    raise errors.invalid_compatibility_level()


@dataclass(frozen=True, slots=True)
class Config:
    """Compatibility settings of one scope; None means "not set here"."""

    compatibility: CompatibilityLevel | None = None
    normalize: bool | None = None

    def to_dict(self) -> dict[str, Json]:
        """Confluent's GET /config shape."""
        body: dict[str, Json] = {}
        if self.compatibility is not None:
            body["compatibilityLevel"] = self.compatibility.value
        if self.normalize is not None:
            body["normalize"] = self.normalize
        return body


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema with its global id. Content never changes once an id is handed out."""

    id: int
    schema_type: SchemaType
    schema: str
    references: tuple[SchemaReference, ...] = ()
    metadata: Json = None
    rule_set: Json = None

    def body(self) -> dict[str, Json]:
        """The schema fields of Confluent's JSON answers (schemaType omitted for AVRO)."""
        out: dict[str, Json] = {}
        if self.schema_type is not SchemaType.AVRO:
            out["schemaType"] = self.schema_type.value
        if self.references:
            out["references"] = [
                {"name": r.name, "subject": r.subject, "version": r.version}
                for r in self.references
            ]
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.rule_set is not None:
            out["ruleSet"] = self.rule_set
        out["schema"] = self.schema
        return out


@dataclass(slots=True)
class Version:
    """One version of a subject, pointing at a schema id."""

    subject: str
    version: int
    schema_id: int
    deleted: bool = False


@dataclass(slots=True)
class Subject:
    """A subject's versions and the next version number (never reused)."""

    versions: dict[int, Version] = field(default_factory=dict)
    next_version: int = 1

    def live(self) -> list[Version]:
        """Versions that are not soft-deleted, oldest first."""
        return sorted((v for v in self.versions.values() if not v.deleted), key=_by_version)

    def latest_live(self) -> Version | None:
        """The newest version that is not soft-deleted."""
        return max(
            (v for v in self.versions.values() if not v.deleted), key=_by_version, default=None
        )

    def all(self) -> list[Version]:
        """Every version still stored (live and soft-deleted), oldest first."""
        return sorted(self.versions.values(), key=_by_version)


def _by_version(version: Version) -> int:
    return version.version


SchemaKey = tuple[str, str, tuple[SchemaReference, ...], str, str]


@dataclass
class RegistryState:
    """Everything the registry knows; built only by `apply`."""

    schemas: dict[int, StoredSchema] = field(default_factory=dict)
    #: identity (`ParsedSchema.canonical_string`) -> the first id with it
    ids_by_key: dict[SchemaKey, int] = field(default_factory=dict)
    #: schema id -> its identity
    keys_by_id: dict[int, SchemaKey] = field(default_factory=dict)
    #: exact text -> id, for commands written before identities were canonical strings; their
    #: replay must hand out the ids it handed out then
    legacy_ids: dict[SchemaKey, int] = field(default_factory=dict)
    #: identities that more than one id has (possible only through such older commands)
    shared_keys: set[SchemaKey] = field(default_factory=set)
    subjects: dict[str, Subject] = field(default_factory=dict)
    #: schema id -> every (subject, version) that uses it, soft-deleted ones included
    usages: dict[int, set[tuple[str, int]]] = field(default_factory=dict)
    #: (subject, version) -> the live versions whose schema references it
    referrers: dict[tuple[str, int], set[tuple[str, int]]] = field(default_factory=dict)
    next_id: int = 1
    global_config: Config = field(default_factory=Config)
    subject_configs: dict[str, Config] = field(default_factory=dict)
    global_mode: Mode = Mode.READWRITE
    subject_modes: dict[str, Mode] = field(default_factory=dict)
    #: bumped whenever something becomes invisible (deletes), so readers can drop caches
    deletions: int = 0

    # -- scopes --------------------------------------------------------------------------------
    def compatibility(self, subject: str | None) -> CompatibilityLevel:
        """The level in force for the subject: its own, else the global one, else BACKWARD."""
        if subject is not None:
            own = self.subject_configs.get(subject)
            if own is not None and own.compatibility is not None:
                return own.compatibility
        return self.global_config.compatibility or DEFAULT_COMPATIBILITY

    def normalize(self, subject: str | None) -> bool:
        """Whether registrations under the subject are normalized by configuration."""
        if subject is not None:
            own = self.subject_configs.get(subject)
            if own is not None and own.normalize is not None:
                return own.normalize
        return bool(self.global_config.normalize)

    def mode(self, subject: str | None) -> Mode:
        """The mode in force for the subject: its own, else the global one."""
        if subject is not None and subject in self.subject_modes:
            return self.subject_modes[subject]
        return self.global_mode

    def effective_config(self, subject: str | None) -> Config:
        """The settings in force, as `GET /config?defaultToGlobal=true` shows them."""
        return Config(self.compatibility(subject), self.normalize(subject) or None)

    # -- lookups -------------------------------------------------------------------------------
    def versions_of(self, subject: str, include_deleted: bool = False) -> list[Version]:
        """A subject's versions, oldest first (soft-deleted ones only when asked)."""
        sub = self.subjects.get(subject)
        if sub is None:
            return []
        return sub.all() if include_deleted else sub.live()

    def has_live(self, subject: str) -> bool:
        """Whether the subject has a version that is not soft-deleted."""
        sub = self.subjects.get(subject)
        return sub is not None and any(not v.deleted for v in sub.versions.values())

    def visible_schema(self, schema_id: int) -> StoredSchema | None:
        """The schema with this id while some version (even soft-deleted) still uses it."""
        if not self.usages.get(schema_id):
            return None
        return self.schemas.get(schema_id)

    def resolve(self, references: Iterable[SchemaReference]) -> tuple[ResolvedReference, ...]:
        """The transitive closure of references with their texts, dependencies first.

        Each (subject, version) is resolved once however many paths lead to it, so a graph
        of shared references costs its size, not the number of its paths."""
        out: dict[tuple[str, int], ResolvedReference] = {}
        heights: dict[tuple[str, int], int] = {}
        self._resolve_into(tuple(references), out, heights, (), 0)
        return tuple(out.values())

    def _resolve_into(
        self,
        references: tuple[SchemaReference, ...],
        out: dict[tuple[str, int], ResolvedReference],
        heights: dict[tuple[str, int], int],
        path: tuple[tuple[str, int], ...],
        depth: int,
    ) -> int:
        """Resolve `references` below `path` into `out`; returns the height of the tallest
        (0 for none), memoized in `heights` so a shared reference is walked once."""
        tallest = 0
        for ref in references:
            key = (ref.subject, ref.version)
            if key in path:
                raise errors.invalid_schema(
                    f"reference cycle through subject '{ref.subject}' version {ref.version}"
                )
            height = heights.get(key)
            if height is None:
                sub = self.subjects.get(ref.subject)
                version = sub.versions.get(ref.version) if sub is not None else None
                if version is None:
                    raise errors.invalid_schema(
                        f"Invalid schema: reference '{ref.name}' points to subject "
                        f"'{ref.subject}' version {ref.version}, which does not exist"
                    )
                stored = self.schemas[version.schema_id]
                if depth + 1 > DEFAULT_LIMITS.max_depth:
                    raise errors.invalid_schema("references are nested too deeply")
                height = 1 + self._resolve_into(
                    stored.references, out, heights, (*path, key), depth + 1
                )
                heights[key] = height
                out[key] = ResolvedReference(ref.name, ref.subject, ref.version, stored.schema)
                if len(out) > DEFAULT_LIMITS.max_references:
                    raise errors.invalid_schema(
                        f"schema has more than {DEFAULT_LIMITS.max_references} references"
                    )
            if depth + height > DEFAULT_LIMITS.max_depth:
                raise errors.invalid_schema("references are nested too deeply")
            tallest = max(tallest, height)
        return tallest

    def parsed(self, stored: StoredSchema) -> ParsedSchema:
        """The parsed form of a stored schema (cached by text)."""
        return parse_cached(stored.schema_type, stored.schema, self.resolve(stored.references))


_ParseKey = tuple[SchemaType, str, tuple[ResolvedReference, ...]]
_PARSED: OrderedDict[_ParseKey, ParsedSchema] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 8192


def parse_cached(
    schema_type: SchemaType, text: str, references: tuple[ResolvedReference, ...]
) -> ParsedSchema:
    """Parse a schema; the cache (least recently used out) keeps replay and repeated requests
    fast."""
    key = (schema_type, text, references)
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
            return found
    parsed = parse_schema(schema_type, text, references)
    _remember(key, parsed)
    return parsed


def _remember(key: _ParseKey, parsed: ParsedSchema) -> None:
    with _PARSED_LOCK:
        _PARSED[key] = parsed
        if len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)


def registered_text(parsed: ParsedSchema, normalize: bool) -> str:
    """`identity_string`, with the parse of that text remembered as `parsed` itself when it
    is the canonical string of `parsed` (the same schema written canonically), so that the
    fold, which parses the registered text, does not parse it again."""
    text = identity_string(parsed, normalize)
    if not normalize and text != parsed.raw:
        _remember((parsed.schema_type, text, parsed.references), parsed)
    return text


def parse_or_reject(
    schema_type: SchemaType, text: str, references: tuple[ResolvedReference, ...]
) -> ParsedSchema:
    """Parse a schema, turning every parse failure into a 42201 with the reason."""
    try:
        return parse_cached(schema_type, text, references)
    except errors.RegistryError:
        raise
    except Exception as exc:  # a schema no parser path handles is invalid input, not a crash
        raise errors.invalid_schema(f"Invalid schema: {exc}") from None


def normalized_or_reject(parsed: ParsedSchema) -> str:
    """The normalized form of a schema, a failure of the normalizer reported as invalid input."""
    try:
        return parsed.normalized_form()
    except Exception as exc:
        raise errors.invalid_schema(f"Invalid schema: cannot normalize: {exc}") from None


@functools.lru_cache(maxsize=8192)
def _canonical_string_cached(
    schema_type: SchemaType, text: str, references: tuple[ResolvedReference, ...]
) -> str:
    return parse_cached(schema_type, text, references).canonical_string()


def canonical_string_or_reject(parsed: ParsedSchema) -> str:
    """Confluent's canonical string of a schema (cached by text), failures as invalid input."""
    try:
        return _canonical_string_cached(parsed.schema_type, parsed.raw, parsed.references)
    except errors.RegistryError:
        raise
    except Exception as exc:
        raise errors.invalid_schema(f"Invalid schema: cannot write it canonically: {exc}") from None


def identity_string(parsed: ParsedSchema, normalize: bool) -> str:
    """The text a schema is registered and identified as: Confluent's canonical string, of
    the normalized form when `normalize` is set."""
    if not normalize:
        return canonical_string_or_reject(parsed)
    normalized = parse_or_reject(
        parsed.schema_type, normalized_or_reject(parsed), parsed.references
    )
    return canonical_string_or_reject(normalized)


def check_compatibility(
    parsed: ParsedSchema, previous: list[VersionedSchema], level: CompatibilityLevel
) -> CompatibilityResult:
    """`check`, with a failure of the checker itself reported as invalid input."""
    try:
        return check(parsed, previous, level)
    except Exception as exc:
        raise errors.invalid_schema(
            f"Invalid schema: compatibility could not be checked: {exc}"
        ) from None


def schema_key(
    schema_type: SchemaType,
    text: str,
    references: tuple[SchemaReference, ...],
    metadata: Json,
    rule_set: Json,
) -> SchemaKey:
    """What makes two registrations "the same schema" (and so the same id)."""
    return (schema_type.value, text, references, _json_key(metadata), _json_key(rule_set))


def _json_key(value: Json) -> str:
    """A JSON value as a comparable string ("null" for none, the common case)."""
    return "null" if value is None else json.dumps(value, sort_keys=True)


def compared_versions(sub: Subject, level: CompatibilityLevel) -> list[Version]:
    """The versions a compatibility check at `level` looks at (the rest need no parsing)."""
    if level is CompatibilityLevel.NONE:
        return []
    if level.transitive:
        return sub.live()
    latest = sub.latest_live()
    return [] if latest is None else [latest]


def initial_state() -> RegistryState:
    """The state of an empty log."""
    return RegistryState()


# -- commands -----------------------------------------------------------------------------------
def register_command(
    subject: str,
    schema_type: SchemaType,
    schema: str,
    references: Iterable[SchemaReference] = (),
    *,
    metadata: Json = None,
    rule_set: Json = None,
    schema_id: int | None = None,
    version: int | None = None,
) -> Command:
    """The log command that registers `schema`, given as its `identity_string` (normalized
    already if wanted). Such commands carry `"canonical": true`; commands without it come
    from before identities were canonical strings and are identified by their exact text."""
    built = command(
        "register",
        subject=subject,
        schemaType=schema_type.value,
        schema=schema,
        canonical=True,
        references=[
            {"name": r.name, "subject": r.subject, "version": r.version} for r in references
        ],
    )
    if metadata is not None:
        built["metadata"] = metadata
    if rule_set is not None:
        built["ruleSet"] = rule_set
    if schema_id is not None:
        built["id"] = schema_id
    if version is not None:
        built["version"] = version
    return built


def delete_subject_command(subject: str, permanent: bool = False) -> Command:
    """Soft-delete every live version of `subject`, or (`permanent`) forget a soft-deleted
    subject. Outcome: the version numbers deleted."""
    return command("delete_subject", subject=subject, permanent=permanent)


def delete_version_command(subject: str, version: int | str, permanent: bool = False) -> Command:
    """Soft-delete (or, once soft-deleted, forget) one version; `version` may be "latest".
    Outcome: the version number."""
    return command("delete_version", subject=subject, version=version, permanent=permanent)


def set_config_command(
    subject: str | None, compatibility: str | None, normalize: bool | None
) -> Command:
    """Set the compatibility level and/or normalization of a subject (None: the global one).
    Outcome: what was set, as Confluent's PUT /config answers it."""
    return command("set_config", subject=subject, compatibility=compatibility, normalize=normalize)


def delete_config_command(subject: str | None) -> Command:
    """Drop a subject's (or the global) settings. Outcome: the settings dropped."""
    return command("delete_config", subject=subject)


def set_mode_command(subject: str | None, mode: Mode, force: bool = False) -> Command:
    """Set a subject's (or the global) mode; IMPORT over live subjects needs `force`."""
    return command("set_mode", subject=subject, mode=mode.value, force=force)


def delete_mode_command(subject: str | None) -> Command:
    """Drop a subject's mode (the global one returns to READWRITE). Outcome: the old mode."""
    return command("delete_mode", subject=subject)


def apply(state: RegistryState, command: Mapping[str, Json]) -> Json:
    """Fold one command into the state and return its outcome (raises `RegistryError`, or
    `engine.statelog.CommandError` for a command it cannot read).

    The state is left untouched when this raises: every check runs before any change.
    """
    return FOLD.apply(state, command)


def validate(state: RegistryState, command: Mapping[str, Json]) -> Json:
    """Run every check `apply` would run, change nothing, and return the would-be outcome
    (`Unchanged` for a registration that is there already)."""
    return FOLD.validate(state, command)


def _refs_of(raw: Json) -> tuple[SchemaReference, ...]:
    refs = []
    for item in raw or ():
        refs.append(SchemaReference(str(item["name"]), str(item["subject"]), int(item["version"])))
    return tuple(refs)


def _check_writable(state: RegistryState, subject: str) -> Mode:
    mode = state.mode(subject)
    if mode in (Mode.READONLY, Mode.READONLY_OVERRIDE):
        raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
    return mode


# -- register, step by step ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Registration:
    """A register command, read."""

    subject: str
    schema_type: SchemaType
    text: str
    references: tuple[SchemaReference, ...]
    metadata: Json
    rule_set: Json
    requested_id: int | None
    requested_version: int | None
    canonical: bool

    @classmethod
    def read(cls, command: Mapping[str, Json]) -> _Registration:
        requested_id = command.get("id")
        requested_version = command.get("version")
        return cls(
            subject=command["subject"],
            schema_type=SchemaType(command["schemaType"]),
            text=command["schema"],
            references=_refs_of(command.get("references")),
            metadata=command.get("metadata"),
            rule_set=command.get("ruleSet"),
            requested_id=(
                requested_id if isinstance(requested_id, int) and requested_id >= 0 else None
            ),
            requested_version=(
                requested_version
                if isinstance(requested_version, int) and requested_version > 0
                else None
            ),
            canonical=command.get("canonical") is True,
        )

    def key(self, text: str) -> SchemaKey:
        return schema_key(self.schema_type, text, self.references, self.metadata, self.rule_set)


@dataclass(frozen=True, slots=True)
class _Identity:
    """Who a registration is: its identity key, the key of its exact text for a command
    written before identities were canonical (None otherwise), and the id it already has."""

    key: SchemaKey
    legacy_key: SchemaKey | None
    existing_id: int | None


def _identify(state: RegistryState, reg: _Registration, parsed: ParsedSchema) -> _Identity:
    """The text of a canonical command is its identity; an older command keeps the id its
    exact text got then, and is indexed under its identity for the commands that follow."""
    if reg.canonical:
        key = reg.key(reg.text)
        return _Identity(key, None, state.ids_by_key.get(key))
    legacy_key = reg.key(reg.text)
    try:
        identity = canonical_string_or_reject(parsed)
    except errors.RegistryError:  # replay must not refuse what was accepted then
        identity = reg.text
    return _Identity(reg.key(identity), legacy_key, state.legacy_ids.get(legacy_key))


def _already_registered(
    state: RegistryState, sub: Subject, reg: _Registration, who: _Identity
) -> tuple[int, int] | None:
    """The (id, version) under which the subject already has this schema, if any."""
    if who.existing_id is None or reg.requested_id not in (None, who.existing_id):
        return None
    shared = who.legacy_key is None and who.key in state.shared_keys
    return _registered_under(
        state,
        sub,
        reg.subject,
        who.existing_id,
        who.key if shared else None,
        reg.requested_version,
    )


def _check_mode_allows(reg: _Registration, mode: Mode) -> None:
    if reg.requested_id is not None and mode is not Mode.IMPORT:
        raise errors.operation_not_permitted(f"Subject {reg.subject} is not in import mode")
    if reg.requested_id is None and mode is not Mode.READWRITE:
        raise errors.operation_not_permitted(f"Subject {reg.subject} is not in read-write mode")


def _check_compatible(
    state: RegistryState, sub: Subject, reg: _Registration, parsed: ParsedSchema
) -> None:
    level = state.compatibility(reg.subject)
    previous = [
        VersionedSchema(v.version, state.parsed(state.schemas[v.schema_id]))
        for v in compared_versions(sub, level)
    ]
    result = check_compatibility(parsed, previous, level)
    if not result.compatible:
        raise errors.incompatible_schema(reg.subject, result.messages())


def _choose_version(sub: Subject, reg: _Registration, mode: Mode) -> int:
    if reg.requested_version is None:
        return sub.next_version
    if mode is Mode.IMPORT:
        return reg.requested_version
    if reg.requested_version != sub.next_version:
        raise errors.invalid_schema("Version is not one more than previous version")
    return sub.next_version


def _choose_id(state: RegistryState, reg: _Registration, who: _Identity) -> int:
    """The requested id (import), checked not to overwrite another schema; else the id the
    schema has already; else the next one."""
    requested = reg.requested_id
    if requested is None:
        return who.existing_id if who.existing_id is not None else state.next_id
    taken = state.schemas.get(requested)
    taken_key: SchemaKey | None
    if who.legacy_key is not None and taken is not None:
        taken_key = schema_key(
            taken.schema_type, taken.schema, taken.references, taken.metadata, taken.rule_set
        )
    else:
        taken_key = state.keys_by_id.get(requested)
    if taken is not None and taken_key != (who.legacy_key or who.key):
        raise errors.operation_not_permitted(
            f"Overwrite new schema with id {requested} is not permitted."
        )
    if who.existing_id is not None and who.existing_id != requested:
        raise errors.id_does_not_match(who.existing_id, requested)
    return requested


def _record_registration(
    state: RegistryState,
    sub: Subject,
    reg: _Registration,
    who: _Identity,
    schema_id: int,
    new_version: int,
) -> None:
    """Change the state: store the schema (if new), index its identity, add the version."""
    if schema_id not in state.schemas:
        state.schemas[schema_id] = StoredSchema(
            schema_id, reg.schema_type, reg.text, reg.references, reg.metadata, reg.rule_set
        )
    if state.ids_by_key.setdefault(who.key, schema_id) != schema_id:
        state.shared_keys.add(who.key)
    state.keys_by_id.setdefault(schema_id, who.key)
    if who.legacy_key is not None:
        state.legacy_ids.setdefault(who.legacy_key, schema_id)
    state.next_id = max(state.next_id, schema_id + 1)
    state.subjects[reg.subject] = sub
    # An import may overwrite a version; a re-registration retires soft-deleted copies.
    overwritten = sub.versions.get(new_version)
    if overwritten is not None:
        _forget_version(state, overwritten)
    for old in list(sub.versions.values()):
        if old.deleted and old.schema_id == schema_id and old.version < new_version:
            _forget_version(state, old)
    sub.versions[new_version] = Version(reg.subject, new_version, schema_id)
    sub.next_version = max(sub.next_version, new_version + 1)
    state.usages.setdefault(schema_id, set()).add((reg.subject, new_version))
    for ref in reg.references:
        state.referrers.setdefault((ref.subject, ref.version), set()).add(
            (reg.subject, new_version)
        )


def _register(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    reg = _Registration.read(command)
    mode = _check_writable(state, reg.subject)
    parsed = parse_or_reject(reg.schema_type, reg.text, state.resolve(reg.references))
    who = _identify(state, reg, parsed)
    sub = state.subjects.get(reg.subject) or Subject()
    found = _already_registered(state, sub, reg, who)
    if found is not None:
        return Unchanged({"id": found[0], "version": found[1], "existing": True})
    _check_mode_allows(reg, mode)
    if mode is not Mode.IMPORT:
        _check_compatible(state, sub, reg, parsed)
    new_version = _choose_version(sub, reg, mode)
    schema_id = _choose_id(state, reg, who)
    if commit:
        _record_registration(state, sub, reg, who, schema_id, new_version)
    return {"id": schema_id, "version": new_version, "existing": False}


def _registered_under(
    state: RegistryState,
    sub: Subject,
    subject: str,
    schema_id: int,
    shared_key: SchemaKey | None,
    wanted_version: int | None,
) -> tuple[int, int] | None:
    """The (id, version) under which the subject already has this schema live, if any.

    With `shared_key` (an identity several ids have), any of those ids counts.
    """
    pairs = [
        (schema_id, number) for name, number in state.usages.get(schema_id, ()) if name == subject
    ]
    if shared_key is not None:
        pairs = [
            (v.schema_id, v.version)
            for v in sub.live()
            if state.keys_by_id[v.schema_id] == shared_key
        ]
    for found_id, number in sorted(pairs, key=lambda pair: pair[1]):
        version = sub.versions.get(number)
        if version is not None and not version.deleted and wanted_version in (None, number):
            return found_id, number
    return None


def _unreference(state: RegistryState, version: Version) -> None:
    """Drop the references a version makes (it no longer counts as a referrer)."""
    stored = state.schemas[version.schema_id]
    for ref in stored.references:
        holders = state.referrers.get((ref.subject, ref.version))
        if holders is not None:
            holders.discard((version.subject, version.version))
            if not holders:
                del state.referrers[(ref.subject, ref.version)]


def _forget_version(state: RegistryState, version: Version) -> None:
    """Remove a version for good (its number stays retired)."""
    if not version.deleted:
        _unreference(state, version)
    del state.subjects[version.subject].versions[version.version]
    uses = state.usages.get(version.schema_id)
    if uses is not None:
        uses.discard((version.subject, version.version))
    state.deletions += 1


def _soft_delete(state: RegistryState, version: Version) -> None:
    _unreference(state, version)
    version.deleted = True
    state.deletions += 1


def _check_not_referenced(state: RegistryState, subject: str, version: int) -> None:
    if state.referrers.get((subject, version)):
        raise errors.reference_exists(subject, version)


def _drop_subject_settings(state: RegistryState, subject: str) -> None:
    state.subject_configs.pop(subject, None)
    state.subject_modes.pop(subject, None)


def _delete_version(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str = command["subject"]
    permanent = bool(command.get("permanent", False))
    wanted = command["version"]
    _check_writable(state, subject)
    sub = state.subjects.get(subject)
    if sub is None or not sub.versions:
        raise errors.subject_not_found(subject)
    if wanted == "latest" or wanted == -1:
        candidates = sub.all() if permanent else sub.live()
        if not candidates:
            raise errors.subject_not_found(subject)
        number = candidates[-1].version
    else:
        number = int(wanted)
    version = sub.versions.get(number)
    if version is None:
        raise errors.version_not_found(number)
    if not permanent and version.deleted:
        raise errors.version_soft_deleted(subject, number)
    if permanent and not version.deleted:
        raise errors.version_not_soft_deleted(subject, number)
    _check_not_referenced(state, subject, number)
    if commit:
        if permanent:
            _forget_version(state, version)
        else:
            _soft_delete(state, version)
            if not state.has_live(subject):
                _drop_subject_settings(state, subject)
    return number


def _delete_subject(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str = command["subject"]
    permanent = bool(command.get("permanent", False))
    _check_writable(state, subject)
    sub = state.subjects.get(subject)
    if sub is None or not sub.versions:
        raise errors.subject_not_found(subject)
    if permanent:
        targets = sub.all()
        if any(not v.deleted for v in targets):
            raise errors.subject_not_soft_deleted(subject)
    else:
        targets = sub.live()
        if not targets:
            raise errors.subject_soft_deleted(subject)
    for version in targets:
        _check_not_referenced(state, subject, version.version)
    if commit:
        for version in targets:
            if permanent:
                _forget_version(state, version)
            else:
                _soft_delete(state, version)
        _drop_subject_settings(state, subject)
    return [v.version for v in targets]


def _set_config(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str | None = command.get("subject")
    raw_level, normalize = command.get("compatibility"), command.get("normalize")
    level = parse_level(raw_level) if raw_level is not None else None
    if normalize is not None and not isinstance(normalize, bool):
        raise errors.RegistryError(422, "normalize must be true or false")
    current = state.global_config if subject is None else state.subject_configs.get(subject)
    updated = current or Config()
    if level is not None:
        updated = replace(updated, compatibility=level)
    if normalize is not None:
        updated = replace(updated, normalize=normalize)
    if commit:
        if subject is None:
            state.global_config = updated
        else:
            state.subject_configs[subject] = updated
    answer: dict[str, Json] = {}
    if level is not None:
        answer["compatibility"] = level.value
    if normalize is not None:
        answer["normalize"] = normalize
    return answer


def _delete_config(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str | None = command.get("subject")
    if subject is None:
        old = Config(state.compatibility(None), state.global_config.normalize)
        if commit:
            state.global_config = Config()
        return old.to_dict()
    own = state.subject_configs.get(subject)
    if own is None:
        raise errors.subject_not_found(subject)
    if commit:
        del state.subject_configs[subject]
    return own.to_dict()


def _set_mode(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str | None = command.get("subject")
    mode = Mode.parse(command.get("mode"))
    if mode is Mode.IMPORT and not command.get("force", False):
        busy = (
            any(state.has_live(name) for name in state.subjects)
            if subject is None
            else state.has_live(subject)
        )
        if busy:
            raise errors.operation_not_permitted("Cannot import since found existing subjects")
    if commit:
        if subject is None:
            state.global_mode = mode
        else:
            state.subject_modes[subject] = mode
    return {"mode": mode.value}


def _delete_mode(state: RegistryState, command: Mapping[str, Json], commit: bool) -> Json:
    subject: str | None = command.get("subject")
    if subject is None:
        old = state.global_mode
        if commit:
            state.global_mode = Mode.READWRITE
        return {"mode": old.value}
    own = state.subject_modes.get(subject)
    if own is None:
        raise errors.subject_not_found(subject)
    if commit:
        del state.subject_modes[subject]
    return {"mode": own.value}


_HANDLERS: dict[str, Handler[RegistryState]] = {
    "register": _register,
    "delete_version": _delete_version,
    "delete_subject": _delete_subject,
    "set_config": _set_config,
    "delete_config": _delete_config,
    "set_mode": _set_mode,
    "delete_mode": _delete_mode,
}


# -- snapshots ----------------------------------------------------------------------------------
def _key_list(key: SchemaKey) -> list[Json]:
    kind, text, refs, metadata, rule_set = key
    return [kind, text, [[r.name, r.subject, r.version] for r in refs], metadata, rule_set]


def _key_of(raw: list[Json]) -> SchemaKey:
    kind, text, refs, metadata, rule_set = raw
    return (
        str(kind),
        str(text),
        tuple(SchemaReference(str(n), str(s), int(v)) for n, s, v in refs),
        str(metadata),
        str(rule_set),
    )


def _stored_key(stored: StoredSchema, text: str | None = None) -> SchemaKey:
    return schema_key(
        stored.schema_type,
        stored.schema if text is None else text,
        stored.references,
        stored.metadata,
        stored.rule_set,
    )


def _config_list(config: Config) -> list[Json]:
    level = config.compatibility.value if config.compatibility is not None else None
    return [level, config.normalize]


def _config_of(raw: list[Json]) -> Config:
    level, normalize = raw
    return Config(CompatibilityLevel(level) if level is not None else None, normalize)


_BATCH = 1000
_SCHEMA_TYPES = {kind.value: kind for kind in SchemaType}


def _batches(items: list[Json]) -> Iterator[list[Json]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


def dump_state(state: RegistryState) -> Iterable[Json]:
    """The state as snapshot pieces: settings; schemas by the thousand (their fields, then
    their texts as plain string pieces, with the identity each one is indexed under when it
    is not its own text); identity indexes; subjects. Usages and referrers are derived again
    on load."""
    yield [
        "h",
        {
            "next_id": state.next_id,
            "deletions": state.deletions,
            "global_config": _config_list(state.global_config),
            "global_mode": state.global_mode.value,
            "subject_configs": {s: _config_list(c) for s, c in state.subject_configs.items()},
            "subject_modes": {s: m.value for s, m in state.subject_modes.items()},
        },
    ]
    for batch in _batches(list(state.schemas.values())):
        rows = []
        for stored in batch:
            key = state.keys_by_id.get(stored.id)
            identity: Json
            if key is None:
                identity = None
            elif key == _stored_key(stored):
                identity = 0
            elif key == _stored_key(stored, key[1]):
                identity = key[1]
            else:
                identity = _key_list(key)
            refs = [[r.name, r.subject, r.version] for r in stored.references]
            rows.append(
                [
                    stored.id,
                    stored.schema_type.value,
                    refs,
                    stored.metadata,
                    stored.rule_set,
                    identity,
                ]
            )
        yield ["s", rows]
        yield from (stored.schema for stored in batch)
    simple_ids, other_ids = [], []
    for key, schema_id in state.ids_by_key.items():
        if state.keys_by_id.get(schema_id) == key:
            simple_ids.append(schema_id)
        else:
            other_ids.append([_key_list(key), schema_id])
    yield ["i", simple_ids, other_ids]
    simple_legacy, other_legacy = [], []
    for key, schema_id in state.legacy_ids.items():
        owner = state.schemas.get(schema_id)
        if owner is not None and _stored_key(owner) == key:
            simple_legacy.append(schema_id)
        else:
            other_legacy.append([_key_list(key), schema_id])
    yield ["l", simple_legacy, other_legacy]
    yield ["x", [_key_list(key) for key in state.shared_keys]]
    subjects = [
        [
            name,
            sub.next_version,
            [[v.version, v.schema_id, v.deleted] for v in sub.versions.values()],
        ]
        for name, sub in state.subjects.items()
    ]
    for batch in _batches(subjects):
        yield ["v", batch]


def load_state(pieces: Iterator[Json]) -> RegistryState:
    """The state `dump_state` wrote. Parses no schema: bodies are parsed when first used."""
    state = RegistryState()
    for piece in pieces:
        kind = piece[0]
        if kind == "s":
            for schema_id, type_name, refs, metadata, rule_set, identity in piece[1]:
                text = next(pieces)
                if not isinstance(text, str):
                    raise ValueError("a schema's text is missing from the snapshot")
                references = (
                    tuple(SchemaReference(str(n), str(s), int(v)) for n, s, v in refs)
                    if refs
                    else ()
                )
                stored = StoredSchema(
                    int(schema_id), _SCHEMA_TYPES[type_name], text, references, metadata, rule_set
                )
                state.schemas[stored.id] = stored
                if identity is not None:
                    if isinstance(identity, list):
                        key = _key_of(identity)
                    else:
                        key = (
                            type_name,
                            text if identity == 0 else str(identity),
                            references,
                            _json_key(metadata),
                            _json_key(rule_set),
                        )
                    state.keys_by_id[stored.id] = key
        elif kind == "i":
            for schema_id in piece[1]:
                state.ids_by_key[state.keys_by_id[schema_id]] = int(schema_id)
            for key, schema_id in piece[2]:
                state.ids_by_key[_key_of(key)] = int(schema_id)
        elif kind == "l":
            for schema_id in piece[1]:
                state.legacy_ids[_stored_key(state.schemas[schema_id])] = int(schema_id)
            for key, schema_id in piece[2]:
                state.legacy_ids[_key_of(key)] = int(schema_id)
        elif kind == "x":
            state.shared_keys.update(_key_of(key) for key in piece[1])
        elif kind == "v":
            for name, next_version, versions in piece[1]:
                subject = str(name)
                sub = state.subjects[subject] = Subject(next_version=int(next_version))
                for number, schema_id, deleted in versions:
                    version = Version(subject, int(number), int(schema_id), bool(deleted))
                    sub.versions[version.version] = version
                    state.usages.setdefault(version.schema_id, set()).add(
                        (subject, version.version)
                    )
        elif kind == "h":
            header = piece[1]
            state.next_id = int(header["next_id"])
            state.deletions = int(header["deletions"])
            state.global_config = _config_of(header["global_config"])
            state.global_mode = Mode(header["global_mode"])
            state.subject_configs = {s: _config_of(c) for s, c in header["subject_configs"].items()}
            state.subject_modes = {s: Mode(m) for s, m in header["subject_modes"].items()}
        else:
            raise ValueError(f"unknown snapshot piece {kind!r}")
    for sub in state.subjects.values():
        for version in sub.versions.values():
            if not version.deleted:
                for ref in state.schemas[version.schema_id].references:
                    state.referrers.setdefault((ref.subject, ref.version), set()).add(
                        (version.subject, version.version)
                    )
    return state


def reserve_ids(state: RegistryState, first: int, count: int) -> None:
    """The log lost the commands at `count` offsets from `first`: each may have registered
    one new schema, taking the next id, so those ids are never handed out again."""
    state.next_id += count


#: The registry's fold over `_schemas`.
FOLD: Fold[RegistryState] = Fold(
    initial_state,
    _HANDLERS,
    snapshot=SnapshotCodec("registry-2", dump_state, load_state),
    skipped=reserve_ids,
)
