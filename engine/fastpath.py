"""Loads the optional C fast path of the embedded engine (`engine/_fastpath.c`).

`native` is the compiled module, or None when it was not built (no C compiler at install
time) or when `STREAMGOV_PURE_PYTHON=1` asks for the pure-Python implementations, which every
user of the fast path keeps as its reference and fallback. `status()` says which one runs
(`streamgov --version` and `streamgov up` print it).
"""

from __future__ import annotations

import os
from typing import Any

native: Any = None
#: Why the fast path is not active (None when it is).
reason: str | None = None
if os.environ.get("STREAMGOV_PURE_PYTHON") == "1":
    reason = "disabled by STREAMGOV_PURE_PYTHON=1"
else:
    try:
        from engine import _fastpath as native  # type: ignore[attr-defined,no-redef,unused-ignore]
    except ImportError as exc:
        native = None
        reason = f"the extension engine._fastpath is not installed ({exc})"


def status() -> str:
    """One line: whether the embedded engine runs its C fast path, and if not, why and what
    it costs."""
    if native is not None:
        return "C fast path: active"
    return (
        f"C fast path: NOT active, {reason}; the embedded engine runs in pure Python, several "
        "times slower (install a binary wheel, or reinstall with a C compiler)"
    )
