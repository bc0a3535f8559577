"""Whether the optional C extensions are in use: one line for `--version`, `up` and `demo`.

Each extension has a pure-Python twin that its component falls back to when the extension
was not built (no C compiler at install time, a lost build artefact) or when
`STREAMGOV_PURE_PYTHON=1` asks for it. The fallback is correct but several times slower, so
the user is told which extensions are missing rather than left to wonder.
"""

from __future__ import annotations

import importlib
import os

#: Each extension and what it speeds up: one line per extension.
EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("engine._fastpath", "the embedded engine"),
    ("engine.kafka_listener._batches", "the Kafka listener's record batches"),
    ("clusterapi._pages", "/v3 record pages"),
)


def missing() -> list[tuple[str, str, str]]:
    """The extensions not in use, as (module, what it speeds up, why not)."""
    if os.environ.get("STREAMGOV_PURE_PYTHON") == "1":
        reason = "disabled by STREAMGOV_PURE_PYTHON=1"
        return [(module, what, reason) for module, what in EXTENSIONS]
    gaps: list[tuple[str, str, str]] = []
    for module, what in EXTENSIONS:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            gaps.append((module, what, f"the extension {module} is not installed ({exc})"))
    return gaps


def status() -> str:
    """One line: whether every C extension is active, and if not, which, why and what it costs."""
    gaps = missing()
    if not gaps:
        return "C fast path: active"
    if os.environ.get("STREAMGOV_PURE_PYTHON") == "1":
        reasons = gaps[0][2]
    else:
        reasons = "; ".join(reason for _, _, reason in gaps)
    slower = ", ".join(what for _, what, _ in gaps)
    return (
        f"C fast path: NOT active, {reasons}; {slower} run in pure Python, several times "
        "slower (install a binary wheel, or reinstall with a C compiler)"
    )
