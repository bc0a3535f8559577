"""The registry's errors, with Confluent Schema Registry's error codes and message texts.

Every error carries an `error_code`; its first three digits are the HTTP status the REST API
answers with, so `{"error_code": 40401, "message": "Subject 'x' not found."}` goes out as a 404.
These are plain values: the store raises them, the service passes them on, the router renders.
"""

from __future__ import annotations

from collections.abc import Sequence

from httpapi.errors import ApiError

SUBJECT_NOT_FOUND = 40401
VERSION_NOT_FOUND = 40402
SCHEMA_NOT_FOUND = 40403
SUBJECT_SOFT_DELETED = 40404
SUBJECT_NOT_SOFT_DELETED = 40405
VERSION_SOFT_DELETED = 40406
VERSION_NOT_SOFT_DELETED = 40407
SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408
SUBJECT_MODE_NOT_CONFIGURED = 40409
ASSOCIATION_NOT_FOUND = 40410
INCOMPATIBLE_SCHEMA = 40901
INVALID_SCHEMA = 42201
INVALID_VERSION = 42202
INVALID_COMPATIBILITY_LEVEL = 42203
INVALID_MODE = 42204
OPERATION_NOT_PERMITTED = 42205
REFERENCE_EXISTS = 42206
ID_DOES_NOT_MATCH = 42207
INVALID_SUBJECT = 42208
STORE_ERROR = 50001
OPERATION_TIMEOUT = 50002


class RegistryError(ApiError):
    """An error the registry reports to its caller: a Confluent error code and a message (the
    HTTP error every router answers with, so `status` is the REST API's status)."""


def subject_not_found(subject: str) -> RegistryError:
    """40401: no (visible) versions under the subject."""
    return RegistryError(SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")


def version_not_found(version: int | str) -> RegistryError:
    """40402: the subject exists but not this version."""
    return RegistryError(VERSION_NOT_FOUND, f"Version {version} not found.")


def schema_not_found(schema_id: int | None = None) -> RegistryError:
    """40403: no such schema id, or the schema is not registered under the subject."""
    if schema_id is None:
        return RegistryError(SCHEMA_NOT_FOUND, "Schema not found")
    return RegistryError(SCHEMA_NOT_FOUND, f"Schema {schema_id} not found")


def subject_soft_deleted(subject: str) -> RegistryError:
    """40404: soft-deleting a subject that is already soft-deleted."""
    return RegistryError(
        SUBJECT_SOFT_DELETED,
        f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
    )


def subject_not_soft_deleted(subject: str) -> RegistryError:
    """40405: a permanent delete of a subject that still has live versions."""
    return RegistryError(
        SUBJECT_NOT_SOFT_DELETED,
        f"Subject '{subject}' was not deleted first before being permanently deleted",
    )


def version_soft_deleted(subject: str, version: int | str) -> RegistryError:
    """40406: soft-deleting a version that is already soft-deleted."""
    return RegistryError(
        VERSION_SOFT_DELETED,
        f"Subject '{subject}' Version {version} was soft deleted."
        "Set permanent=true to delete permanently",
    )


def version_not_soft_deleted(subject: str, version: int | str) -> RegistryError:
    """40407: a permanent delete of a version that is still live."""
    return RegistryError(
        VERSION_NOT_SOFT_DELETED,
        f"Subject '{subject}' Version {version} was not deleted first before being "
        "permanently deleted",
    )


def subject_compatibility_not_configured(subject: str) -> RegistryError:
    """40408: no subject-level compatibility (and `defaultToGlobal` was not asked for)."""
    return RegistryError(
        SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
        f"Subject '{subject}' does not have subject-level compatibility configured",
    )


def subject_mode_not_configured(subject: str) -> RegistryError:
    """40409: no subject-level mode (and `defaultToGlobal` was not asked for)."""
    return RegistryError(
        SUBJECT_MODE_NOT_CONFIGURED,
        f"Subject '{subject}' does not have subject-level mode configured",
    )


def association_not_found(resource: str) -> RegistryError:
    """40410: this registry keeps no associations, so every lookup answers this."""
    return RegistryError(ASSOCIATION_NOT_FOUND, f"Association for '{resource}' not found.")


def incompatible_schema(subject: str, messages: Sequence[str]) -> RegistryError:
    """40901: the schema breaks the subject's compatibility level."""
    details = "[" + ", ".join(messages) + "]"
    return RegistryError(
        INCOMPATIBLE_SCHEMA,
        f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
        f"details: {details}",
    )


def invalid_schema(reason: str) -> RegistryError:
    """42201: the schema (or schema type, or a reference) is not valid."""
    return RegistryError(INVALID_SCHEMA, reason)


def invalid_version(version: str) -> RegistryError:
    """42202: a version that is neither 1..2^31-1 nor `latest`."""
    return RegistryError(
        INVALID_VERSION,
        f"The specified version '{version}' is not a valid version id. Allowed values are "
        'between [1, 2^31-1] and the string "latest"',
    )


def invalid_compatibility_level() -> RegistryError:
    """42203: an unknown compatibility level."""
    return RegistryError(
        INVALID_COMPATIBILITY_LEVEL,
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive",
    )


def invalid_mode() -> RegistryError:
    """42204: an unknown mode."""
    return RegistryError(
        INVALID_MODE, "Invalid mode. Valid values are READWRITE, READONLY, IMPORT."
    )


def operation_not_permitted(message: str) -> RegistryError:
    """42205: the mode forbids the operation (read-only, import rules)."""
    return RegistryError(OPERATION_NOT_PERMITTED, message)


def reference_exists(subject: str, version: int) -> RegistryError:
    """42206: the version is still referenced by another schema."""
    return RegistryError(
        REFERENCE_EXISTS,
        f"One or more references exist to the schema {{subject={subject},version={version}}}: "
        "delete the referencing schemas first",
    )


def id_does_not_match(existing: int, requested: int) -> RegistryError:
    """42207: an imported schema already exists under another id."""
    return RegistryError(
        ID_DOES_NOT_MATCH,
        f"Schema already registered with id {existing} instead of input id {requested}",
    )


def invalid_subject(subject: str) -> RegistryError:
    """42208: a subject name that is empty or holds control characters."""
    return RegistryError(INVALID_SUBJECT, f"The specified subject '{subject}' is not valid.")


def store_error(message: str) -> RegistryError:
    """50001: the backing log failed."""
    return RegistryError(STORE_ERROR, message)


def operation_timeout(message: str) -> RegistryError:
    """50002: the backing log did not answer in time."""
    return RegistryError(OPERATION_TIMEOUT, message)
