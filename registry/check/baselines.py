"""What a schema change is checked against: earlier versions of subjects, and their source.

A baseline answers, for the subjects the working tree holds, their earlier versions (oldest
first) and the level to check at. `tree_baseline` reads them from a git commit or a
directory, `registry_baseline` from a running Confluent-compatible registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from registry.compatibility import CompatibilityLevel
from registry.formats import ResolvedReference, SchemaType

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD


class BaselineError(Exception):
    """The baseline cannot be read (unknown ref, unreachable registry); one clear line."""


@dataclass(frozen=True, slots=True)
class BaselineVersion:
    """One earlier version of a subject."""

    version: int
    label: str
    schema_type: SchemaType
    text: str
    references: tuple[ResolvedReference, ...] = ()


@dataclass(frozen=True, slots=True)
class BaselineSubject:
    """A subject as the baseline knows it: its versions (oldest first) and the level."""

    subject: str
    level: CompatibilityLevel
    versions: tuple[BaselineVersion, ...]
    path: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def latest(self) -> BaselineVersion:
        """The newest version."""
        return self.versions[-1]


class Baseline(Protocol):
    """A source of earlier versions."""

    @property
    def description(self) -> str:
        """What the baseline is, for reports (`git:REF`, `registry:URL`, a directory)."""
        ...

    def subjects(self) -> Mapping[str, str | None] | None:
        """Every subject the baseline holds, with its file; None when it cannot tell."""
        ...

    def fetch(
        self, wanted: Mapping[str, CompatibilityLevel | None], default: CompatibilityLevel
    ) -> dict[str, BaselineSubject]:
        """Earlier versions of the `wanted` subjects (subject -> level override) it has.

        `default` is the level when neither the entry nor the baseline sets one.
        """
        ...
