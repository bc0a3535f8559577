"""`matches_every_string`: sound on every generated pattern, and right on the known ones."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.compatibility.jsonschema.patterns import matches_every_string

#: Pieces of regular expressions, zero-width ones included, so that near misses are generated.
_ATOMS = st.sampled_from(["a", "b", ".", "[ab]", "[^a]", "\\d", "\\w", "\\n", "^", "$", "\\b"])


def _regexes() -> st.SearchStrategy[str]:
    return st.recursive(
        _ATOMS,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map("|".join),
            inner.map(lambda body: f"(?:{body})"),
            inner.map(lambda body: f"({body})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{0,2}", "{1}", "*?"])).map(
                lambda pair: f"(?:{pair[0]}){pair[1]}"
            ),
        ),
        max_leaves=6,
    )


#: Strings that defeat wrong answers: empty, newlines, characters on either side of classes.
_STRINGS = st.text(alphabet=st.sampled_from(["a", "b", "1", " ", "\n", "é", "_"]), max_size=6)


@settings(max_examples=500, deadline=None)
@given(_regexes(), st.lists(_STRINGS, min_size=1, max_size=8))
def test_a_pattern_said_to_match_every_string_does(pattern: str, samples: list[str]) -> None:
    if matches_every_string(pattern):
        for text in ["", "\n", "ba\nb", *samples]:
            assert re.search(pattern, text) is not None, (pattern, text)


@pytest.mark.parametrize(
    "pattern", ["a*", "", ".*", "^a*", "a*$", "(ab)*", "(?:x|)", "x?y*", "a{0}", "a|b*", "^(|a)"]
)
def test_patterns_that_match_every_string_are_recognised(pattern: str) -> None:
    assert matches_every_string(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "a",
        "^a*$",
        "^.*$",  # `.` stops at a newline
        "^$",
        "\\b",
        "(a*)\\1",
        # Read otherwise by ECMA-262 (the language of schemas) than by Python: never trusted.
        "a{,3}",
        "(?i)a*",
        "(?P<n>a*)",
        "\\Ax*",
        "a*+",
        "[^]*",
        "(?=a)?",
    ],
)
def test_anything_else_is_taken_as_possibly_narrowing(pattern: str) -> None:
    assert not matches_every_string(pattern)
