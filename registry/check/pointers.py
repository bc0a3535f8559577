"""JSON pointers to line numbers in a schema file, and pointers carried between versions.

Compatibility findings name a JSON pointer into a schema; CI annotations need a line in the
file. The scanner here walks JSON text once and records the line where every value (or, for
an object member, its key) starts.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ATOM = re.compile(r"-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_SPACE = re.compile(r"[ \t\r\n]*")
MAX_DEPTH = 256


def load_json(text: str | bytes) -> Any:
    """`json.loads` that reports nesting too deep for the parser as a `ValueError`."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


def escape(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """Undo `escape`."""
    return token.replace("~1", "/").replace("~0", "~")


def split(pointer: str) -> list[str]:
    """The reference tokens of a pointer (`""` is the whole document)."""
    if not pointer or pointer == "/":
        return []
    return [unescape(token) for token in pointer.lstrip("#").removeprefix("/").split("/")]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[str, int] = {}

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def skip(self, pos: int) -> int:
        match = _SPACE.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, pointer: str, depth: int) -> int:
        pos = self.skip(pos)
        self.lines.setdefault(pointer, self.line(pos))
        if depth > MAX_DEPTH or pos >= len(self.text):
            raise ValueError("too deep or truncated")
        char = self.text[pos]
        if char == "{":
            return self.members(pos + 1, pointer, depth)
        if char == "[":
            return self.items(pos + 1, pointer, depth)
        match = (_STRING if char == '"' else _ATOM).match(self.text, pos)
        if match is None:
            raise ValueError(f"unexpected {char!r}")
        return match.end()

    def members(self, pos: int, pointer: str, depth: int) -> int:
        pos = self.skip(pos)
        if self.text.startswith("}", pos):
            return pos + 1
        while True:
            pos = self.skip(pos)
            match = _STRING.match(self.text, pos)
            if match is None:
                raise ValueError("expected a key")
            key = _decode(match.group())
            child = f"{pointer}/{escape(key)}"
            self.lines.setdefault(child, self.line(pos))
            pos = self.skip(match.end())
            if not self.text.startswith(":", pos):
                raise ValueError("expected ':'")
            pos = self.skip(self.value(pos + 1, child, depth + 1))
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("}", pos):
                return pos + 1
            raise ValueError("expected ',' or '}'")

    def items(self, pos: int, pointer: str, depth: int) -> int:
        pos = self.skip(pos)
        if self.text.startswith("]", pos):
            return pos + 1
        index = 0
        while True:
            pos = self.skip(self.value(pos, f"{pointer}/{index}", depth + 1))
            index += 1
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("]", pos):
                return pos + 1
            raise ValueError("expected ',' or ']'")


def _decode(literal: str) -> str:
    try:
        decoded = json.loads(literal)
    except ValueError:
        return literal[1:-1]
    return decoded if isinstance(decoded, str) else literal[1:-1]


def pointer_lines(text: str) -> dict[str, int]:
    """Line (1-based) where each pointer's value starts; partial for malformed text."""
    scanner = _Scanner(text)
    with contextlib.suppress(ValueError, IndexError):
        scanner.value(0, "", 0)
    return scanner.lines


def line_of(text: str, pointer: str) -> int:
    """The line of `pointer` in `text`, or of its nearest enclosing value; 1 when unknown."""
    lines = pointer_lines(text)
    tokens = split(pointer)
    while True:
        key = "".join(f"/{escape(token)}" for token in tokens)
        if key in lines:
            # An array item that is a named thing (an Avro field): its name is the best line.
            named = f"{key}/name" if tokens and tokens[-1].isdigit() else None
            return lines.get(named, lines[key]) if named else lines[key]
        if not tokens:
            return 1
        tokens.pop()


def translate(pointer: str, source: Any, target: Any) -> str:
    """Carry `pointer` from document `source` to the matching place in `target`.

    Array items that are named (Avro fields, enum-like records) are matched by `name`, so a
    pointer at an old version's field lands on the same field in the new version even when
    fields moved. Stops at the deepest place that exists in both.
    """
    out: list[str] = []
    for token in split(pointer):
        if isinstance(source, dict) and isinstance(target, dict):
            if token not in source or token not in target:
                break
            source, target = source[token], target[token]
            out.append(escape(token))
        elif isinstance(source, list) and isinstance(target, list):
            if not token.isdigit() or int(token) >= len(source):
                break
            item = source[int(token)]
            index = _same_item(item, target, int(token))
            if index is None:
                break
            source, target = item, target[index]
            out.append(str(index))
        else:
            break
    return "".join(f"/{token}" for token in out)


def _same_item(item: Any, items: list[Any], index: int) -> int | None:
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        for position, candidate in enumerate(items):
            if isinstance(candidate, dict) and candidate.get("name") == item["name"]:
                return position
        return None
    return index if index < len(items) else None
