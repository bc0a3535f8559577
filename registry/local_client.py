"""A `RegistryClient` over a `SchemaRegistry` in the same process: the serdes (and anything
else written against the HTTP client) work on an embedded registry without HTTP.

Every call goes straight to the registry's core; its errors come back as
`RegistryClientError` with the status and error code the REST API would have answered, so
callers handle both clients alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from registry.client import (
    RegisteredSchema,
    RegistryClient,
    RegistryClientError,
    _config_body,
    _schema_body,
)
from registry.errors import RegistryError
from registry.formats import supported_types
from registry.formats.base import SchemaReference
from registry.service import SchemaRegistry

T = TypeVar("T")


@contextmanager
def _answers() -> Iterator[None]:
    """Registry errors as the HTTP client reports them (the status the REST API answers)."""
    try:
        yield
    except RegistryError as exc:
        raise RegistryClientError(exc.status, exc.error_code, str(exc)) from exc


class LocalRegistryClient(RegistryClient):
    """`RegistryClient` calls answered by an in-process `SchemaRegistry` (the caller owns it:
    `close` here leaves it open)."""

    def __init__(self, registry: SchemaRegistry) -> None:
        # No HTTP connection pool: nothing of the base class's __init__ applies.
        self.url = "in-process"
        self.registry = registry

    def close(self) -> None:
        """Nothing to release: the registry belongs to the caller."""

    def _call(self, call: Callable[[], T]) -> T:
        with _answers():
            return call()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Raw REST paths have no meaning in process: every operation is a method here."""
        raise RegistryClientError(
            400, 400, f"{method} {path}: an in-process registry is called through its methods"
        )

    # -- schemas ------------------------------------------------------------------------------
    def register(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        normalize: bool = False,
    ) -> int:
        """Register (or find) a schema under a subject; returns its id."""
        body = _schema_body(schema, schema_type, tuple(references))
        return int(str(self._call(lambda: self.registry.register(subject, body, normalize))["id"]))

    def lookup(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        normalize: bool = False,
        deleted: bool = False,
    ) -> RegisteredSchema:
        """Find the version under which a schema is registered in a subject."""
        body = _schema_body(schema, schema_type, tuple(references))
        answer = self._call(lambda: self.registry.lookup(subject, body, normalize, deleted))
        return RegisteredSchema.from_json(answer)

    def get_schema(self, schema_id: int) -> RegisteredSchema:
        """The schema with this id."""
        answer = self._call(lambda: self.registry.schema_by_id(schema_id))
        return RegisteredSchema.from_json(answer, schema_id)

    def get_latest(self, subject: str) -> RegisteredSchema:
        """The latest live version of a subject (always current: no cache in process)."""
        return self.get_version(subject, "latest")

    def get_version(
        self, subject: str, version: int | str = "latest", deleted: bool = False
    ) -> RegisteredSchema:
        """One version of a subject."""
        answer = self._call(lambda: self.registry.get_version(subject, version, deleted))
        return RegisteredSchema.from_json(answer)

    def subjects(
        self, prefix: str | None = None, deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Subject names."""
        return self._call(lambda: self.registry.subjects(prefix, deleted, deleted_only))

    def versions(self, subject: str, deleted: bool = False) -> list[int]:
        """Version numbers of a subject."""
        return self._call(lambda: self.registry.versions(subject, deleted))

    def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        """Soft-delete a subject (or permanently delete a soft-deleted one)."""
        return self._call(lambda: self.registry.delete_subject(subject, permanent))

    def delete_version(self, subject: str, version: int | str, permanent: bool = False) -> int:
        """Soft-delete a version (or permanently delete a soft-deleted one)."""
        return self._call(lambda: self.registry.delete_version(subject, version, permanent))

    def test_compatibility(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        version: int | str | None = None,
        verbose: bool = True,
    ) -> dict[str, Any]:
        """`{"is_compatible": bool, "messages": [...]}`, as the HTTP client answers."""
        body = _schema_body(schema, schema_type, tuple(references))
        return dict(
            self._call(
                lambda: self.registry.test_compatibility(subject, body, version, verbose=verbose)
            )
        )

    def schema_types(self) -> list[str]:
        """Schema formats the registry supports."""
        return [kind.value for kind in supported_types()]

    # -- config and mode -------------------------------------------------------------------------
    def get_config(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> dict[str, Any]:
        """Compatibility settings, globally or of one subject."""
        return dict(self._call(lambda: self.registry.get_config(subject, default_to_global)))

    def set_config(
        self,
        subject: str | None = None,
        compatibility: str | None = None,
        normalize: bool | None = None,
    ) -> dict[str, Any]:
        """Set the compatibility level and/or normalization, globally or for one subject."""
        body = _config_body(compatibility, normalize)
        return dict(self._call(lambda: self.registry.set_config(subject, body)))

    def delete_config(self, subject: str | None = None) -> dict[str, Any]:
        """Drop a subject's settings (or reset the global ones)."""
        return dict(self._call(lambda: self.registry.delete_config(subject)))

    def get_mode(self, subject: str | None = None, default_to_global: bool = False) -> str:
        """READWRITE, READONLY or IMPORT, globally or of one subject."""
        return str(self._call(lambda: self.registry.get_mode(subject, default_to_global))["mode"])

    def set_mode(self, mode: str, subject: str | None = None, force: bool = False) -> str:
        """Set the mode, globally or for one subject."""
        answer = self._call(lambda: self.registry.set_mode(subject, {"mode": mode}, force))
        return str(answer["mode"])

    def delete_mode(self, subject: str | None = None) -> str:
        """Drop a subject's mode (or reset the global one); returns the old mode."""
        return str(self._call(lambda: self.registry.delete_mode(subject))["mode"])
