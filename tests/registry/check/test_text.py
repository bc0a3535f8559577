"""`one_line`: whatever the text, one line without control characters; printable text as is."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from registry.check.text import one_line


@given(st.text())
def test_the_result_is_one_line_without_control_characters(text: str) -> None:
    out = one_line(text)
    assert len(out.splitlines()) <= 1
    assert not [c for c in out if unicodedata.category(c) in ("Cc", "Zl", "Zp")]
    assert "\u202e" not in out


@given(st.text(st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp", "Cf"])))
def test_printable_text_is_unchanged(text: str) -> None:
    assert one_line(text) == text


def test_escapes_are_readable() -> None:
    assert one_line("a\nb\r\t\x1b[0m\u2028\u202e") == "a\\nb\\r\\t\\x1b[0m\\u2028\\u202e"
