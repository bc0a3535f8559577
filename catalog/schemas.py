"""The catalog's view of the schema registry: the latest schema of a subject, parsed."""

from __future__ import annotations

from registry.formats.base import ParsedSchema
from registry.service import SchemaRegistry


class RegistrySchemas:
    """A `SchemaSource` over an in-process registry service (the same log every instance
    reads), so the catalog never asks a URL for a schema."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self._registry = registry

    def latest(self, subject: str) -> ParsedSchema | None:
        """The newest live schema of the subject, parsed, or None when it has none."""
        with self._registry.lock:
            state = self._registry.state
            versions = state.versions_of(subject)
            if not versions:
                return None
            return state.parsed(state.schemas[versions[-1].schema_id])
