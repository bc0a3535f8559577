"""Strict YAML reading for `streamgov.yaml` and the files it includes: safe loading, and every
mapping, list and key remembers its line so an error can name file and line. Shared by the
check's `schemas:` section and the catalog's governance sections."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import yaml

MAX_FILE_BYTES = 4 * 1024 * 1024


class ConfigFileError(ValueError):
    """A configuration file is not valid; the message starts with `file:line:`."""


class LineMap(dict[str, Any]):
    """A YAML mapping that remembers where it and each of its keys start (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of `key`, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and each item's line."""

    line: int = 0
    item_lines: list[int]


#: libyaml's parser when PyYAML was built with it (several times faster), else the pure one
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loading that records line numbers."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = LineMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        # Keys as written: `y:` stays "y" rather than YAML 1.1's boolean True.
        if isinstance(key_node, yaml.ScalarNode):
            key = str(key_node.value)
        else:
            key = str(loader.construct_object(key_node, deep=True))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> Any:
    data = LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_object(item, deep=True) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


def load(text: str, source: str, max_bytes: int = MAX_FILE_BYTES) -> LineMap:
    """Parse a configuration file; an empty file is an empty mapping."""
    if len(text.encode("utf-8")) > max_bytes:
        raise ConfigFileError(f"{source}: larger than {max_bytes} bytes")
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFileError(f"{where}: not valid YAML: {problem}") from None
    if document is None:
        empty = LineMap()
        empty.line, empty.key_lines = 1, {}
        return empty
    if not isinstance(document, LineMap):
        raise ConfigFileError(f"{source}:1: the file must be a mapping of sections")
    return document


class Reader:
    """Checks values piece by piece, raising errors that point at file and line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, line: int, message: str) -> ConfigFileError:
        """An error at `line` of this file."""
        return ConfigFileError(f"{self.source}:{line}: {message}")

    def mapping(self, value: Any, where: str, line: int) -> LineMap:
        """`value` as a mapping (None is an empty one)."""
        if value is None:
            empty = LineMap()
            empty.line, empty.key_lines = line, {}
            return empty
        if not isinstance(value, LineMap):
            raise self.fail(line, f"{where} must be a mapping")
        return value

    def keys(self, value: LineMap, allowed: Iterable[str], where: str) -> None:
        """Refuse keys outside `allowed`, suggesting the closest allowed one."""
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    value.line_of(str(key)),
                    f"unknown key {key!r} in {where}{hint}; allowed: {', '.join(allowed)}",
                )

    def text(self, value: LineMap, key: str, where: str) -> str | None:
        """An optional scalar as text."""
        item = value.get(key)
        if item is None:
            return None
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise self.fail(value.line_of(key), f"{where}.{key} must be text")
        return str(item)

    def integer(self, value: LineMap, key: str, where: str, low: int, high: int) -> int | None:
        """An optional whole number in [low, high]."""
        item = value.get(key)
        if item is None:
            return None
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise self.fail(
                value.line_of(key), f"{where}.{key} must be a whole number from {low} to {high}"
            )
        return item

    def boolean(self, value: LineMap, key: str, where: str) -> bool:
        """An optional true/false (absent is false)."""
        item = value.get(key, False)
        if not isinstance(item, bool):
            raise self.fail(value.line_of(key), f"{where}.{key} must be true or false")
        return item

    def strings(self, value: LineMap, key: str, where: str) -> list[tuple[str, int]]:
        """An optional list of scalars as (text, line) pairs."""
        item = value.get(key)
        if item is None:
            return []
        if not isinstance(item, LineList):
            raise self.fail(value.line_of(key), f"{where}.{key} must be a list")
        out = []
        for entry, line in zip(item, item.item_lines, strict=True):
            if isinstance(entry, bool) or not isinstance(entry, str | int | float):
                raise self.fail(line, f"{where}.{key} entries must be text")
            out.append((str(entry), line))
        return out
