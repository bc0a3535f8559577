"""What a check found: one outcome per subject and one problem per thing to fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CheckStatus(StrEnum):
    """What happened to one subject."""

    NEW = "new"
    UNCHANGED = "unchanged"
    COMPATIBLE = "compatible"
    INCOMPATIBLE = "incompatible"
    INVALID = "invalid"
    VALID = "valid"  # parsed, no baseline given
    DELETED = "deleted"


class Severity(StrEnum):
    """Errors fail the check; warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix, with everything needed to find and fix it.

    A compatibility problem found against several earlier versions is one `Problem`: `versions`
    lists them all, and `version` is the newest of them.
    """

    kind: CheckStatus
    subject: str | None
    file: str | None
    message: str
    fix: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    rule: str | None = None
    pointer: str | None = None
    version: str | None = None
    direction: str | None = None
    level: str | None = None
    #: Every earlier version the problem breaks against, newest first (`version` is the first).
    versions: tuple[str, ...] = ()

    def against(self) -> str | None:
        """The versions it breaks against, as a phrase: `a`, `a and b`, `a, b and c`."""
        return join_labels(list(self.versions)) if self.versions else self.version


#: Versions named in a sentence; beyond that the rest are counted (JSON lists them all).
NAMED_LABELS = 5


def join_labels(labels: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`, `a, b, c, d and 7 earlier versions`: the versions a
    problem breaks against, for sentences."""
    if len(labels) <= 1:
        return "".join(labels)
    if len(labels) > NAMED_LABELS:
        shown, rest = labels[: NAMED_LABELS - 1], len(labels) - NAMED_LABELS + 1
        return f"{', '.join(shown)} and {rest} earlier versions"
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


@dataclass(frozen=True, slots=True)
class SubjectOutcome:
    """The verdict for one subject."""

    subject: str
    file: str | None
    status: CheckStatus
    level: str | None = None
    versions_checked: int = 0


@dataclass
class CheckReport:
    """Everything one run of the check found."""

    against: str | None
    #: The checked root relative to the repository top ("" or ending in "/"); file paths in
    #: problems are relative to the checked root.
    prefix: str = ""
    subjects: list[SubjectOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing fails the check (warnings allowed)."""
        return not any(p.severity is Severity.ERROR for p in self.problems)

    def counts(self) -> dict[str, int]:
        """How many subjects ended in each status, in a stable order."""
        counts = {status.value: 0 for status in CheckStatus}
        for outcome in self.subjects:
            counts[outcome.status.value] += 1
        return counts
