"""Side-by-side diff of two schema texts, as aligned rows for two columns."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Literal

Change = Literal["same", "changed", "removed", "added"]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One aligned row: left text, right text and how they differ."""

    left: str
    right: str
    change: Change


def pretty(schema: str) -> str:
    """A schema's text pretty-printed when it is JSON, unchanged otherwise."""
    try:
        return json.dumps(json.loads(schema), indent=2, ensure_ascii=False)
    except ValueError:
        return schema


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Align the lines of `old` and `new`; unmatched lines face a blank."""
    a, b = pretty(old).splitlines(), pretty(new).splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow(a[i], b[j], "same")
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            lt = left[k] if k < len(left) else ""
            rt = right[k] if k < len(right) else ""
            change: Change = (
                "changed"
                if k < len(left) and k < len(right)
                else "removed"
                if k < len(left)
                else "added"
            )
            rows.append(DiffRow(lt, rt, change))
    return rows
