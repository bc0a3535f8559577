"""Text that goes into CI output: one line, with nothing a log parser could act on.

CI systems read commands out of a step's output (GitHub's `::error::` at the start of a line),
and terminals act on escape sequences. Text that comes from elsewhere (a registry's answers,
names inside registered schemas) is written through `one_line`, so it can neither start a line
of its own nor carry control characters.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Bidirectional overrides and isolates: they reorder what a reader sees.
_BIDI = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def _escaped(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` with control characters, line and paragraph separators and bidirectional
    controls written as escapes (`\\n`, `\\x1b`, `\\u2028`)."""
    if text.isprintable():
        return text
    return "".join(
        _escaped(char)
        if char in _BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp")
        else char
        for char in text
    )


__all__ = ["one_line"]
