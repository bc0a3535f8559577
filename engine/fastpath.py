"""Loads the optional C fast path of the embedded engine (`engine/_fastpath.c`).

`native` is the compiled module, or None when it was not built (no C compiler at install
time) or when `STREAMGOV_PURE_PYTHON=1` asks for the pure-Python implementations, which every
user of the fast path keeps as its reference and fallback. `streamgov.fastpaths` tells the
user which extensions are in use.
"""

from __future__ import annotations

import os
from typing import Any

native: Any = None
if os.environ.get("STREAMGOV_PURE_PYTHON") != "1":
    try:
        from engine import _fastpath as native  # type: ignore[attr-defined,no-redef,unused-ignore]
    except ImportError:
        native = None
