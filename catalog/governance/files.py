"""Governance as code: the `streams:`, `services:` and `catalog:` sections of `streamgov.yaml`
and the files it includes, read strictly into the desired state.

```yaml
include: ["teams/*.yaml"]          # more files with streams:, services: (and acls:)
catalog:
  webhook_url: https://hooks.example/catalog
  consumer_horizon: 7d
streams:
  orders:
    owner: checkout
    namespace: sales
    description: One event per placed order
    tags: [pii, tier=gold]
    partitions: 6
    config: {retention.ms: "604800000"}
    value_schema: schemas/orders.avsc     # registered under orders-value
    deprecated: {replacement: orders-v2, sunset: 2027-06-30, reason: new money type}
  old-orders: {delete: true}              # only what is marked is ever deleted
services:
  checkout:
    team: payments
    contacts: [payments@example.com]
    inputs: [carts]
    outputs: [orders]
```

Every error names the file and the line. Sections that belong to other parts of the suite
(`schemas:`, `kafka:`, `acls:`, `replication:`) are kept as they are for those parts to read.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.model import CatalogError, Tag, check_date, check_service, check_topic
from engine.errors import InvalidConfigError
from engine.topics import MAX_PARTITIONS, internal_topic_risk, validate_config
from registry.check.yamlfile import ConfigFileError as GovernanceFileError
from registry.check.yamlfile import LineList, LineMap, Reader, load

CONFIG_FILE = "streamgov.yaml"
MAX_INCLUDED_FILES = 1_000

#: top-level key -> who reads it; any other key is an error
TOP_LEVEL = {
    "include": "governance",
    "catalog": "governance",
    "streams": "governance",
    "services": "governance",
    "schemas": "streamgov check",
    "kafka": "cluster connection",
    "acls": "access control",
    "replication": "replicator",
}
#: sections an included file may hold
INCLUDED_SECTIONS = ("streams", "services", "acls")

_STREAM_KEYS = (
    "owner",
    "namespace",
    "description",
    "tags",
    "partitions",
    "config",
    "key_subject",
    "value_subject",
    "key_schema",
    "value_schema",
    "deprecated",
    "delete",
)
_SERVICE_KEYS = (
    "team",
    "description",
    "contacts",
    "inputs",
    "outputs",
    "groups",
    "principals",
    "delete",
)
_DEPRECATED_KEYS = ("replacement", "sunset", "reason", "since")
_CATALOG_KEYS = ("webhook_url", "consumer_horizon")
_SCHEMA_TYPES = {".avsc": "AVRO", ".avro": "AVRO", ".json": "JSON", ".proto": "PROTOBUF"}
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a declaration was written."""

    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """A schema file a stream declares for its key or value."""

    path: Path
    schema_type: str
    origin: Origin

    def read(self) -> str:
        """The file's text (GovernanceFileError naming the file when unreadable)."""
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GovernanceFileError(
                f"{self.origin}: cannot read schema file {self.path}: {exc}"
            ) from None


@dataclass(frozen=True, slots=True)
class DesiredStream:
    """A stream as the files declare it; None means "not managed here"."""

    topic: str
    origin: Origin
    owner: str | None = None
    namespace: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    partitions: int | None = None
    config: dict[str, str] = field(default_factory=dict)
    key_subject: str | None = None
    value_subject: str | None = None
    key_schema: SchemaFile | None = None
    value_schema: SchemaFile | None = None
    deprecated: dict[str, str | None] | None = None
    delete: bool = False


@dataclass(frozen=True, slots=True)
class DesiredService:
    """A service as the files declare it."""

    name: str
    origin: Origin
    fields: dict[str, Any] = field(default_factory=dict)
    delete: bool = False


@dataclass
class Governance:
    """The desired state read from `streamgov.yaml` and its includes."""

    root: Path
    streams: dict[str, DesiredStream] = field(default_factory=dict)
    services: dict[str, DesiredService] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    #: other components' sections: name -> [(section, reader of its file)]
    sections: dict[str, list[tuple[Any, Reader]]] = field(default_factory=dict)


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `12h`, `7d`, `2w` as seconds; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration: use a number with s, m, h, d or w")
    return float(int(match.group(1)) * _UNITS[match.group(2)])


def load_governance(path: Path) -> Governance:
    """Read `path` and every file it includes into the desired state."""
    governance = Governance(root=path.parent)
    seen: set[Path] = set()
    _read_file(governance, path, seen, top=True)
    return governance


def _read_text(path: Path, origin: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GovernanceFileError(f"{origin}: file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GovernanceFileError(f"{origin}: cannot read {path}: {exc}") from None


def _read_file(governance: Governance, path: Path, seen: set[Path], *, top: bool) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    if len(seen) > MAX_INCLUDED_FILES:
        raise GovernanceFileError(f"{path}: more than {MAX_INCLUDED_FILES} files are included")
    source = _display(path, governance.root)
    document = load(_read_text(path, source), source)
    reader = Reader(source)
    allowed = tuple(TOP_LEVEL) if top else ("include", *INCLUDED_SECTIONS)
    reader.keys(document, allowed, "the file" if top else "an included file")
    if top:
        _read_catalog_settings(governance, reader, document)
    _read_streams(governance, reader, path.parent, document)
    _read_services(governance, reader, document)
    for name, value in document.items():
        if name not in {"include", "catalog", "streams", "services"}:
            governance.sections.setdefault(name, []).append((value, reader))
    for pattern, line in reader.strings(document, "include", "include"):
        matches = sorted(glob.glob(str(path.parent / pattern), recursive=True))
        if not matches:
            raise reader.fail(line, f"include {pattern!r} matches no file")
        for match in matches:
            _read_file(governance, Path(match), seen, top=False)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _read_catalog_settings(governance: Governance, reader: Reader, document: LineMap) -> None:
    section = reader.mapping(document.get("catalog"), "catalog", document.line_of("catalog"))
    reader.keys(section, _CATALOG_KEYS, "catalog")
    url = reader.text(section, "webhook_url", "catalog")
    if url is not None:
        governance.settings["webhook_url"] = _checked(
            reader, section.line_of("webhook_url"), _url, url
        )
    horizon = reader.text(section, "consumer_horizon", "catalog")
    if horizon is not None:
        governance.settings["consumer_horizon_seconds"] = _checked(
            reader, section.line_of("consumer_horizon"), parse_duration, horizon
        )


def _url(value: str) -> str:
    from catalog.model import check_webhook_url

    return check_webhook_url(value)


def _checked(reader: Reader, line: int, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except (CatalogError, InvalidConfigError, ValueError) as exc:
        raise reader.fail(line, str(exc)) from None


def _read_streams(governance: Governance, reader: Reader, base: Path, document: LineMap) -> None:
    streams = reader.mapping(document.get("streams"), "streams", document.line_of("streams"))
    for topic, raw in streams.items():
        line = streams.line_of(topic)
        where = f"streams.{topic}"
        _checked(reader, line, check_topic, topic)
        risk = internal_topic_risk(topic, "change")
        if risk is not None:
            raise reader.fail(line, f"{risk}; governance files leave internal topics alone")
        item = reader.mapping(raw, where, line)
        reader.keys(item, _STREAM_KEYS, where)
        previous = governance.streams.get(topic)
        if previous is not None:
            raise reader.fail(
                line, f"stream {topic!r} is declared twice (also at {previous.origin})"
            )
        owner = reader.text(item, "owner", where)
        if owner is not None:
            _checked(reader, item.line_of("owner"), check_service, owner)
        tags = None
        if "tags" in item:
            tags = tuple(
                str(_checked(reader, tag_line, Tag.parse, text))
                for text, tag_line in reader.strings(item, "tags", where)
            )
        config_map = reader.mapping(item.get("config"), f"{where}.config", item.line_of("config"))
        config = {
            key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in config_map.items()
        }
        _checked(reader, item.line_of("config"), validate_config, config)
        deprecated = None
        if item.get("deprecated") is not None:
            dep = reader.mapping(
                item["deprecated"], f"{where}.deprecated", item.line_of("deprecated")
            )
            reader.keys(dep, _DEPRECATED_KEYS, f"{where}.deprecated")
            deprecated = {
                key: reader.text(dep, key, f"{where}.deprecated") for key in _DEPRECATED_KEYS
            }
            for key in ("sunset", "since"):
                _checked(
                    reader, dep.line_of(key), lambda v, k=key: check_date(v, k), deprecated[key]
                )
            if deprecated["replacement"] is not None:
                _checked(reader, dep.line_of("replacement"), check_topic, deprecated["replacement"])
        governance.streams[topic] = DesiredStream(
            topic=topic,
            origin=Origin(reader.source, line),
            owner=owner,
            namespace=reader.text(item, "namespace", where),
            description=reader.text(item, "description", where),
            tags=tags,
            partitions=reader.integer(item, "partitions", where, 1, MAX_PARTITIONS),
            config=config,
            key_subject=reader.text(item, "key_subject", where),
            value_subject=reader.text(item, "value_subject", where),
            key_schema=_schema_file(reader, base, item, "key_schema", where),
            value_schema=_schema_file(reader, base, item, "value_schema", where),
            deprecated=deprecated,
            delete=reader.boolean(item, "delete", where),
        )


def _schema_file(
    reader: Reader, base: Path, item: LineMap, key: str, where: str
) -> SchemaFile | None:
    text = reader.text(item, key, where)
    if text is None:
        return None
    path = base / text
    schema_type = _SCHEMA_TYPES.get(path.suffix.lower())
    line = item.line_of(key)
    if schema_type is None:
        raise reader.fail(line, f"{where}.{key}: {text} is not .avsc, .json or .proto")
    if not path.is_file():
        raise reader.fail(line, f"{where}.{key}: schema file {text} does not exist")
    return SchemaFile(path, schema_type, Origin(reader.source, line))


def _read_services(governance: Governance, reader: Reader, document: LineMap) -> None:
    services = reader.mapping(document.get("services"), "services", document.line_of("services"))
    for name, raw in services.items():
        line = services.line_of(name)
        where = f"services.{name}"
        _checked(reader, line, check_service, name)
        item = reader.mapping(raw, where, line)
        reader.keys(item, _SERVICE_KEYS, where)
        previous = governance.services.get(name)
        if previous is not None:
            raise reader.fail(
                line, f"service {name!r} is declared twice (also at {previous.origin})"
            )
        fields: dict[str, Any] = {}
        for key in ("team", "description"):
            if key in item:
                fields[key] = reader.text(item, key, where)
        for key in ("contacts", "inputs", "outputs", "groups", "principals"):
            if key in item:
                values = reader.strings(item, key, where)
                if key in {"inputs", "outputs"}:
                    for value, value_line in values:
                        _checked(
                            reader,
                            value_line,
                            lambda v, w=f"{where}.{key}": check_topic(v, w),
                            value,
                        )
                fields[key] = sorted({value for value, _ in values})
        governance.services[name] = DesiredService(
            name, Origin(reader.source, line), fields, reader.boolean(item, "delete", where)
        )


__all__ = [
    "CONFIG_FILE",
    "DesiredService",
    "DesiredStream",
    "Governance",
    "GovernanceFileError",
    "LineList",
    "load_governance",
    "parse_duration",
]
