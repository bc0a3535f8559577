"""The engine's storage failures as HTTP answers, for every router.

A full disk is 507 (nothing of the failed write was stored; writes work again once space is
freed); a damaged file is 503 for what that file stores, naming the file, while everything
else is served.
"""

from __future__ import annotations

from engine.errors import DamagedFileError, StorageFullError
from httpapi.errors import ApiError

#: The data directory's disk is full.
STORAGE_FULL = 50701
#: A file of the data directory is damaged; what it stores is unavailable.
STORAGE_DAMAGED = 50303


def storage_error(exc: Exception) -> ApiError | None:
    """The answer for a storage failure of the engine; None for anything else."""
    if isinstance(exc, StorageFullError):
        return ApiError(STORAGE_FULL, str(exc))
    if isinstance(exc, DamagedFileError):
        return ApiError(STORAGE_DAMAGED, str(exc))
    return None
