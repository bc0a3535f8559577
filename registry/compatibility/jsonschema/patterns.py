"""Whether a `pattern` accepts every string: decided soundly, conservative where unsure.

JSON Schema's `pattern` is searched for, not anchored: `"a*"` matches every string (the empty
match at its start), so a reader adding it narrows nothing. A pattern is recognised as
matching every string when, apart from one leading `^` or one trailing `$`, it can match the
empty string without consuming or asserting anything (every part optional, repeated zero
times, or an alternative that is). Anything else, including every construct whose meaning
differs between ECMA-262 (what schemas are written for) and Python's `re` (inline flags,
`(?P<...>)`, `{,n}`, `\\A`, `\\Z`, backreferences, lookarounds, possessive repeats), is taken
as possibly narrowing.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

#: Repeats whose zero iterations skip the body entirely (possessive ones are not ECMA-262).
_REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT})


@lru_cache(maxsize=1024)
def matches_every_string(pattern: str) -> bool:
    """True only if a search for `pattern` succeeds on every string (see the module doc)."""
    if "{," in pattern or "(?" in pattern.replace("(?:", ""):
        return False
    try:
        items = list(_parser.parse(pattern))
    except Exception:  # an unreadable pattern proves nothing
        return False
    if items and items[0] == (_c.AT, _c.AT_BEGINNING):
        items = items[1:]
    elif items and items[-1] == (_c.AT, _c.AT_END):
        items = items[:-1]
    return _empty_without_looking(items)


def _empty_without_looking(items: Any) -> bool:
    """Whether the sequence `items` can match "" consuming no character and asserting nothing."""
    for op, value in items:
        if op in _REPEATS:
            low, _, body = value
            if low != 0 and not _empty_without_looking(body):
                return False
        elif op == _c.SUBPATTERN:
            if not _empty_without_looking(value[-1]):
                return False
        elif op == _c.BRANCH:
            if not any(_empty_without_looking(branch) for branch in value[1]):
                return False
        else:
            return False
    return True


__all__ = ["matches_every_string"]
