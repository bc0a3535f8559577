"""The schema registry over a `StateLog` on a `Cluster`: what the REST API and the CLI call.

Writes validate against the local state first (bad input never reaches the log), then append a
command and return the outcome the fold produced for it. Reads follow one sync policy:

- lookups by schema id answer from memory (an id's content never changes); only an id this
  instance has not seen yet triggers a catch-up with the log;
- everything else (subjects, versions, config, mode) first catches up with the log, so a read
  through any instance sees every write acknowledged before the read arrived. Concurrent
  readers share one catch-up: a read waits for a sync that started after it arrived, never for
  more.

Answers are the JSON bodies of Confluent Schema Registry's API (plain dicts and lists).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from engine.cluster import Cluster
from engine.errors import ClusterUnavailableError, EngineError, StorageError
from engine.statelog import CommandTooLargeError, StateLog
from registry import errors
from registry.compatibility import VersionedSchema
from registry.formats import supported_types
from registry.formats.base import SchemaError, SchemaReference, SchemaType
from registry.formats.protobuf import ProtobufSchema
from registry.store import (
    FOLD,
    MAX_VERSION,
    Mode,
    RegistryState,
    StoredSchema,
    Version,
    check_compatibility,
    delete_config_command,
    delete_mode_command,
    delete_subject_command,
    delete_version_command,
    identity_string,
    parse_level,
    parse_or_reject,
    register_command,
    registered_text,
    set_config_command,
    set_mode_command,
)

SCHEMAS_TOPIC = "_schemas"
_REGISTER_FAILED = "Register schema operation failed while writing to the log"
SUPPORTED_TYPES = [kind.value for kind in supported_types()]
MAX_SUBJECT_LENGTH = 1024
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

Json = Any


def parse_version(value: str | int) -> int | str:
    """A version path segment: 1..2^31-1, or "latest" (also spelled -1); else 42202."""
    text = str(value).strip()
    if text.lower() == "latest" or text == "-1":
        return "latest"
    try:
        number = int(text)
    except ValueError:
        raise errors.invalid_version(text) from None
    if not 1 <= number <= MAX_VERSION:
        raise errors.invalid_version(text)
    return number


def check_subject(subject: str) -> str:
    """Reject empty subjects, control characters and absurd lengths (42208)."""
    if not subject or len(subject) > MAX_SUBJECT_LENGTH or _CONTROL.search(subject):
        raise errors.invalid_subject(subject[:100])
    return subject


class SchemaRequest:
    """The schema part of a register / lookup / compatibility request body, validated."""

    __slots__ = (
        "metadata",
        "references",
        "rule_set",
        "schema",
        "schema_id",
        "schema_type",
        "version",
    )

    def __init__(self, body: object) -> None:
        if not isinstance(body, Mapping):
            raise _bad_request("the request body must be a JSON object")
        schema = body.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise _bad_request("'schema' must be a string holding the schema")
        self.schema: str = schema or ""
        raw_type = body.get("schemaType")
        if raw_type is not None and not isinstance(raw_type, str):
            raise _bad_request("'schemaType' must be a string")
        try:
            self.schema_type = SchemaType.parse(raw_type)
        except SchemaError as exc:
            raise errors.invalid_schema(str(exc)) from None
        if self.schema_type.value not in SUPPORTED_TYPES:
            raise errors.invalid_schema(
                f"Invalid schema type {self.schema_type.value}: supported types are "
                + ", ".join(SUPPORTED_TYPES)
            )
        self.references = _parse_references(body.get("references"))
        self.metadata = _optional_object(body, "metadata")
        self.rule_set = _optional_object(body, "ruleSet")
        self.schema_id = _optional_int(body, "id")
        self.version = _optional_int(body, "version")


def _bad_request(message: str) -> errors.RegistryError:
    return errors.RegistryError(422, f"Unprocessable request: {message}")


def _optional_object(body: Mapping[str, Json], name: str) -> Json:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise _bad_request(f"'{name}' must be a JSON object")
    return value


def _optional_int(body: Mapping[str, Json], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_VERSION:
        raise _bad_request(f"'{name}' must be an integer between -2^31 and 2^31-1")
    return value


def _parse_references(raw: object) -> tuple[SchemaReference, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad_request("'references' must be a list")
    refs = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _bad_request("each reference must be an object with name, subject, version")
        name, subject, version = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not name or not isinstance(subject, str) or not subject:
            raise errors.invalid_schema("Invalid schema: each reference needs a name and a subject")
        if (
            isinstance(version, bool)
            or not isinstance(version, int)
            or not 1 <= version <= MAX_VERSION
        ):
            raise errors.invalid_schema(
                f"Invalid schema: reference '{name}' needs a version between 1 and 2^31-1"
            )
        refs.append(SchemaReference(name, subject, version))
    return tuple(refs)


def _page(items: Sequence[Any], offset: int, limit: int) -> list[Any]:
    start = max(offset, 0)
    return list(items[start:] if limit <= 0 else items[start : start + limit])


def _version_body(version: Version, stored: StoredSchema) -> dict[str, Json]:
    return {
        "subject": version.subject,
        "version": version.version,
        "id": stored.id,
        **stored.body(),
    }


class SchemaRegistry:
    """A schema registry instance: the fold over the `_schemas` topic of one cluster."""

    def __init__(
        self, cluster: Cluster, topic: str = SCHEMAS_TOPIC, *, readonly: bool = False
    ) -> None:
        """`readonly` serves reads only: every write is refused with 42205."""
        self.readonly = readonly
        self._log: StateLog[RegistryState] = StateLog(cluster, topic, FOLD)
        self._bodies: dict[int, tuple[dict[str, Json], bytes]] = {}
        self._body_epoch = -1

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> SchemaRegistry:
        """Create the topic if needed, load the newest snapshot and replay the rest."""
        with self._store_errors("Error while initializing the schema registry"):
            self._log.start()
        return self

    def close(self) -> None:
        """Stop following the log (writing a snapshot when one is due)."""
        self._log.close()

    # -- plumbing ----------------------------------------------------------------------------------
    @contextmanager
    def _store_errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except errors.RegistryError:
            raise
        except CommandTooLargeError as exc:
            raise errors.invalid_schema(
                f"Invalid schema: too large to store: {exc.size} bytes once written, over the "
                f"limit of {exc.limit} bytes of the registry's log (max.message.bytes of "
                f"{self._log.topic!r})"
            ) from None
        except (TimeoutError, ClusterUnavailableError) as exc:
            raise errors.operation_timeout(f"{what}: {exc}") from exc
        except StorageError:
            raise  # the HTTP edge answers a full disk (507) or a damaged file (503)
        except EngineError as exc:
            raise errors.store_error(f"{what}: {exc}") from exc

    def sync(self) -> None:
        """Catch up with the log, sharing a catch-up that started after this call began."""
        with self._store_errors("Error while reading the schema log"):
            self._log.sync()

    @contextmanager
    def _fresh(self) -> Iterator[RegistryState]:
        """The state, caught up with the log, locked for reading."""
        self.sync()
        with self._log.current() as state:
            yield state

    def _check_writable(self) -> None:
        if self.readonly:
            raise errors.operation_not_permitted(
                "This registry instance is read-only: it serves reads, lookups and "
                "compatibility tests only"
            )

    def _write(self, command: Any, what: str) -> Json:
        """Validate the command (or the command built from the state), then append it."""
        self._check_writable()
        with self._store_errors(what):
            return self._log.write(command)

    @property
    def state(self) -> RegistryState:
        """The local state (read it while holding `lock`)."""
        return self._log.state

    @property
    def lock(self) -> threading.RLock:
        """Held while the fold applies a command."""
        return self._log.lock

    def snapshot(self) -> int:
        """Write a snapshot of the state now; returns its offset."""
        with self._store_errors("Error while writing a snapshot"):
            return self._log.snapshot()

    # -- schemas by id -----------------------------------------------------------------------------
    def _stored_by_id(self, schema_id: int) -> StoredSchema:
        with self._log.lock:
            stored = self._log.state.visible_schema(schema_id)
        if stored is None:
            self.sync()
            with self._log.lock:
                stored = self._log.state.visible_schema(schema_id)
        if stored is None:
            raise errors.schema_not_found(schema_id)
        return stored

    def peek_schema_by_id(self, schema_id: int) -> tuple[dict[str, Json], bytes] | None:
        """The `GET /schemas/ids/{id}` body from memory, as a dict and as encoded JSON, or
        None when this instance has not seen the id (then call `schema_by_id`, which catches
        up with the log). Never blocks on I/O, so the REST layer calls it on its event loop."""
        state = self._log.state
        if self._body_epoch != state.deletions:
            self._bodies = {}
            self._body_epoch = state.deletions
        found = self._bodies.get(schema_id)
        if found is None:
            with self._log.lock:
                stored = state.visible_schema(schema_id)
            if stored is None:
                return None
            body = stored.body()
            encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            found = self._bodies[schema_id] = (body, encoded)
        return found

    def max_id(self) -> int:
        """The highest schema id handed out so far."""
        with self._log.lock:
            return self._log.state.next_id - 1

    def schema_by_id(self, schema_id: int) -> dict[str, Json]:
        """`GET /schemas/ids/{id}`: the schema text, type and references."""
        return self._stored_by_id(schema_id).body()

    def in_format(self, body: dict[str, Json], fmt: str | None) -> dict[str, Json]:
        """Confluent's `format` query parameter: `serialized` answers a Protobuf schema as a
        base64 `FileDescriptorProto` (what confluent-kafka's Protobuf serdes ask for); any other
        format or type answers the schema as stored."""
        if fmt != "serialized" or body.get("schemaType") != SchemaType.PROTOBUF.value:
            return body
        refs = body.get("references")
        references = tuple(
            SchemaReference(str(ref["name"]), str(ref["subject"]), int(ref["version"]))
            for ref in (refs if isinstance(refs, list) else [])
        )
        with self._fresh() as state:
            parsed = parse_or_reject(
                SchemaType.PROTOBUF, str(body["schema"]), state.resolve(references)
            )
        if not isinstance(parsed, ProtobufSchema):
            return body
        return {**body, "schema": parsed.serialized()}

    def schema_text_by_id(self, schema_id: int) -> str:
        """`GET /schemas/ids/{id}/schema`: the schema text only."""
        return self._stored_by_id(schema_id).schema

    def _usages(self, schema_id: int, subject: str | None, deleted: bool) -> list[tuple[str, int]]:
        self._stored_by_id(schema_id)
        with self._fresh() as state:
            found = []
            for name, number in state.usages.get(schema_id, ()):
                if subject is not None and name != subject:
                    continue
                version = state.subjects[name].versions[number]
                if deleted or not version.deleted:
                    found.append((name, number))
        return sorted(found)

    def subjects_by_id(
        self,
        schema_id: int,
        subject: str | None = None,
        deleted: bool = False,
        offset: int = 0,
        limit: int = -1,
    ) -> list[str]:
        """`GET /schemas/ids/{id}/subjects`."""
        names = sorted({name for name, _ in self._usages(schema_id, subject, deleted)})
        return _page(names, offset, limit)

    def versions_by_id(
        self,
        schema_id: int,
        subject: str | None = None,
        deleted: bool = False,
        offset: int = 0,
        limit: int = -1,
    ) -> list[dict[str, Json]]:
        """`GET /schemas/ids/{id}/versions`."""
        pairs = self._usages(schema_id, subject, deleted)
        return _page([{"subject": s, "version": v} for s, v in pairs], offset, limit)

    def list_schemas(
        self,
        subject_prefix: str | None = None,
        deleted: bool = False,
        latest_only: bool = False,
        offset: int = 0,
        limit: int = -1,
    ) -> list[dict[str, Json]]:
        """`GET /schemas`: every (subject, version) with its schema."""
        out: list[dict[str, Json]] = []
        with self._fresh() as state:
            for name in sorted(state.subjects):
                if subject_prefix and not name.startswith(subject_prefix):
                    continue
                versions = state.versions_of(name, include_deleted=deleted)
                if latest_only:
                    versions = versions[-1:]
                out.extend(_version_body(v, state.schemas[v.schema_id]) for v in versions)
        return _page(out, offset, limit)

    # -- subjects ----------------------------------------------------------------------------------
    def subjects(
        self,
        subject_prefix: str | None = None,
        deleted: bool = False,
        deleted_only: bool = False,
        offset: int = 0,
        limit: int = -1,
    ) -> list[str]:
        """`GET /subjects`: subjects with live versions (or soft-deleted ones when asked)."""
        with self._fresh() as state:
            names = []
            for name, sub in state.subjects.items():
                if subject_prefix and not name.startswith(subject_prefix):
                    continue
                flags = {v.deleted for v in sub.versions.values()}
                if (deleted_only and True in flags) or (
                    not deleted_only and (False in flags or (deleted and flags))
                ):
                    names.append(name)
        return _page(sorted(names), offset, limit)

    def versions(
        self,
        subject: str,
        deleted: bool = False,
        deleted_only: bool = False,
        offset: int = 0,
        limit: int = -1,
    ) -> list[int]:
        """`GET /subjects/{s}/versions`."""
        with self._fresh() as state:
            found = state.versions_of(subject, include_deleted=deleted or deleted_only)
            if not found:
                raise errors.subject_not_found(subject)
            if deleted_only:
                found = [v for v in found if v.deleted]
        return _page([v.version for v in found], offset, limit)

    def _version(
        self, state: RegistryState, subject: str, version: str | int, deleted: bool
    ) -> Version:
        wanted = parse_version(version)
        candidates = state.versions_of(subject, include_deleted=deleted)
        if not candidates:
            raise errors.subject_not_found(subject)
        if wanted == "latest":
            return candidates[-1]
        for candidate in candidates:
            if candidate.version == wanted:
                return candidate
        raise errors.version_not_found(wanted)

    def get_version(
        self, subject: str, version: str | int, deleted: bool = False
    ) -> dict[str, Json]:
        """`GET /subjects/{s}/versions/{v}`."""
        with self._fresh() as state:
            found = self._version(state, subject, version, deleted)
            return _version_body(found, state.schemas[found.schema_id])

    def get_version_schema(self, subject: str, version: str | int, deleted: bool = False) -> str:
        """`GET /subjects/{s}/versions/{v}/schema`: the schema text only."""
        return str(self.get_version(subject, version, deleted)["schema"])

    def referenced_by(
        self, subject: str, version: str | int, offset: int = 0, limit: int = -1
    ) -> list[int]:
        """`GET /subjects/{s}/versions/{v}/referencedby`: ids of schemas referencing it."""
        with self._fresh() as state:
            found = self._version(state, subject, version, deleted=True)
            holders = state.referrers.get((subject, found.version), set())
            ids = sorted({state.subjects[s].versions[v].schema_id for s, v in holders})
        return _page(ids, offset, limit)

    def latest_with_metadata(
        self, subject: str, metadata: Mapping[str, str], deleted: bool = False
    ) -> dict[str, Json]:
        """`GET /subjects/{s}/metadata`: the newest version whose metadata properties match."""
        with self._fresh() as state:
            found = state.versions_of(subject, include_deleted=deleted)
            if not found:
                raise errors.subject_not_found(subject)
            for version in reversed(found):
                stored = state.schemas[version.schema_id]
                meta = stored.metadata if isinstance(stored.metadata, dict) else {}
                props = meta.get("properties")
                props = props if isinstance(props, dict) else {}
                if all(props.get(k) == v for k, v in metadata.items()):
                    return _version_body(version, stored)
        raise errors.schema_not_found()

    # -- register / lookup -------------------------------------------------------------------------
    def _prepare(
        self, state: RegistryState, subject: str, request: SchemaRequest, normalize: bool
    ) -> tuple[str, Any]:
        """The schema's identity string (Confluent's canonical string, of the normalized form
        when asked: what is registered and compared) and the parsed schema."""
        resolved = state.resolve(request.references)
        parsed = parse_or_reject(request.schema_type, request.schema, resolved)
        return identity_string(parsed, normalize), parsed

    def register(self, subject: str, body: object, normalize: bool = False) -> dict[str, Json]:
        """`POST /subjects/{s}/versions`: register (or find) the schema; answers `{"id": n}`."""
        future = self._submit_register(subject, body, normalize)
        with self._store_errors(_REGISTER_FAILED):
            outcome = future.result()
        return {"id": outcome["id"]}

    async def register_async(
        self, subject: str, body: object, normalize: bool = False
    ) -> dict[str, Json]:
        """`register` for an event loop: waits for the log's writer without a thread."""
        future = self._submit_register(subject, body, normalize)
        with self._store_errors(_REGISTER_FAILED):
            outcome = await asyncio.wrap_future(future)
        return {"id": outcome["id"]}

    def _submit_register(
        self, subject: str, body: object, normalize: bool
    ) -> concurrent.futures.Future[Any]:
        self._check_writable()
        check_subject(subject)
        request = SchemaRequest(body)
        with self._store_errors(_REGISTER_FAILED):
            return self._log.submit(
                lambda state: self._register_command(state, subject, request, normalize),
                prepare=lambda: self._parse_unlocked(request, normalize),
            )

    def _parse_unlocked(self, request: SchemaRequest, normalize: bool) -> None:
        """Parse the schema without holding the lock (only its references are looked up
        under it), so reads are not held up by a large schema; building the command under the
        lock then finds the parse in the cache. Errors are reported when it is built."""
        if not request.schema.strip():
            return
        try:
            with self._log.current() as state:
                resolved = state.resolve(request.references)
            parsed = parse_or_reject(request.schema_type, request.schema, resolved)
            identity_string(parsed, normalize)
        except errors.RegistryError:
            pass

    def _register_command(
        self, state: RegistryState, subject: str, request: SchemaRequest, normalize: bool
    ) -> dict[str, Json]:
        """The register command for the request, on the state as it is (called under lock)."""
        schema, schema_type, references = request.schema, request.schema_type, request.references
        if not schema.strip():
            live = state.versions_of(subject)
            if not live:
                raise errors.invalid_schema("Empty schema")
            previous = state.schemas[live[-1].schema_id]
            schema, schema_type = previous.schema, previous.schema_type
            references = previous.references
        normalize = normalize or state.normalize(subject)
        parsed = parse_or_reject(schema_type, schema, state.resolve(references))
        return register_command(
            subject,
            schema_type,
            registered_text(parsed, normalize),
            references,
            metadata=request.metadata,
            rule_set=request.rule_set,
            schema_id=request.schema_id,
            version=request.version,
        )

    def lookup(
        self, subject: str, body: object, normalize: bool = False, deleted: bool = False
    ) -> dict[str, Json]:
        """`POST /subjects/{s}`: the version under which this schema is registered."""
        request = SchemaRequest(body)
        with self._fresh() as state:
            candidates = state.versions_of(subject, include_deleted=deleted)
            if not candidates:
                raise errors.subject_not_found(subject)
            if not request.schema.strip():
                raise errors.invalid_schema("Empty schema")
            normalize = normalize or state.normalize(subject)
            text, _ = self._prepare(state, subject, request, normalize)
            for version in reversed(candidates):
                stored = state.schemas[version.schema_id]
                if (
                    stored.schema_type is not request.schema_type
                    or stored.references != request.references
                ):
                    continue
                if identity_string(state.parsed(stored), normalize) == text:
                    return _version_body(version, stored)
        raise errors.schema_not_found()

    def test_compatibility(
        self,
        subject: str,
        body: object,
        version: str | int | None = None,
        normalize: bool = False,
        verbose: bool = False,
    ) -> dict[str, Json]:
        """`POST /compatibility/subjects/{s}/versions[/{v}]`: would this schema be accepted?"""
        request = SchemaRequest(body)
        wanted = parse_version(version) if version is not None else None
        with self._fresh() as state:
            if not request.schema.strip():
                raise errors.invalid_schema("Empty schema")
            normalize = normalize or state.normalize(subject)
            _, parsed = self._prepare(state, subject, request, normalize)
            live = state.versions_of(subject)
            if wanted is None or wanted == "latest":
                targets = live if wanted is None else live[-1:]
            else:
                if not state.versions_of(subject, include_deleted=True):
                    raise errors.subject_not_found(subject)
                targets = [v for v in live if v.version == wanted]
                if not targets:
                    raise errors.version_not_found(wanted)
            previous = [
                VersionedSchema(v.version, state.parsed(state.schemas[v.schema_id]))
                for v in targets
            ]
            result = check_compatibility(parsed, previous, state.compatibility(subject))
        answer: dict[str, Json] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = result.messages()
        return answer

    # -- deletes -----------------------------------------------------------------------------------
    def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        """`DELETE /subjects/{s}`: soft (or, after a soft one, permanent) delete."""
        command = delete_subject_command(subject, permanent)
        return list(self._write(command, "Error while deleting the subject"))

    def delete_version(self, subject: str, version: str | int, permanent: bool = False) -> int:
        """`DELETE /subjects/{s}/versions/{v}`."""
        wanted = parse_version(version)
        command = delete_version_command(subject, wanted, permanent)
        return int(self._write(command, "Error while deleting the schema version"))

    # -- config and mode ---------------------------------------------------------------------------
    def get_config(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> dict[str, Json]:
        """`GET /config[/{s}]`."""
        with self._fresh() as state:
            if subject is None:
                return state.effective_config(None).to_dict()
            own = state.subject_configs.get(subject)
            if own is not None and own.compatibility is not None and not default_to_global:
                return own.to_dict()
            if default_to_global:
                return state.effective_config(subject).to_dict()
            if own is not None:
                return own.to_dict()
        raise errors.subject_compatibility_not_configured(subject)

    def set_config(self, subject: str | None, body: object) -> dict[str, Json]:
        """`PUT /config[/{s}]`: body `{"compatibility": LEVEL, "normalize": bool}`."""
        if subject is not None:
            check_subject(subject)
        if not isinstance(body, Mapping):
            raise _bad_request("the request body must be a JSON object")
        level = body.get("compatibility", body.get("compatibilityLevel"))
        normalize = body.get("normalize")
        if level is None and normalize is None:
            raise errors.invalid_compatibility_level()
        if level is not None:
            level = parse_level(level).value
        if normalize is not None and not isinstance(normalize, bool):
            raise _bad_request("'normalize' must be true or false")
        command = set_config_command(subject, level, normalize)
        return dict(self._write(command, "Failed to update compatibility level"))

    def delete_config(self, subject: str | None = None) -> dict[str, Json]:
        """`DELETE /config[/{s}]`: drop the setting; answers the old one."""
        command = delete_config_command(subject)
        return dict(self._write(command, "Failed to delete compatibility level"))

    def get_mode(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> dict[str, Json]:
        """`GET /mode[/{s}]`."""
        with self._fresh() as state:
            if subject is None:
                return {"mode": state.global_mode.value}
            own = state.subject_modes.get(subject)
            if own is not None:
                return {"mode": own.value}
            if default_to_global:
                return {"mode": state.global_mode.value}
        raise errors.subject_mode_not_configured(subject)

    def set_mode(self, subject: str | None, body: object, force: bool = False) -> dict[str, Json]:
        """`PUT /mode[/{s}]`: body `{"mode": READWRITE|READONLY|IMPORT}`."""
        if subject is not None:
            check_subject(subject)
        if not isinstance(body, Mapping):
            raise _bad_request("the request body must be a JSON object")
        mode = Mode.parse(body.get("mode"))
        command = set_mode_command(subject, mode, force)
        return dict(self._write(command, "Failed to update mode"))

    def delete_mode(self, subject: str | None = None) -> dict[str, Json]:
        """`DELETE /mode[/{s}]`: drop the setting; answers the old mode."""
        command = delete_mode_command(subject)
        return dict(self._write(command, "Failed to delete mode"))
