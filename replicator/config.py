"""The `replication:` section of `streamgov.yaml`, read strictly (errors name file and line).

```yaml
replication:
  flows:
    - source: east                 # an embedded cluster name, or NAME=HOST:PORT for Kafka
      target: west=kafka-west:9092
      topics: "orders|payments"
      topics_exclude: ".*-tmp"
      groups: "billing.*"
      policy: default              # or identity
      delete_with_source: false
      sync_group_offsets: true
      refresh_interval: 30         # seconds
      checkpoint_interval: 5
      offset_lag_max: 100
      mask: {pii: hash, secret: redact}
      mask_salt_env: EAST_WEST_SALT  # the variable holding the hash salt (STREAMGOV_MASK_SALT)
      source_registry: http://registry-east:8081  # only when the source's registry is remote
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from registry.check.yamlfile import LineList, LineMap, Reader
from replicator.flow import Flow, FlowError
from replicator.mask_rules import salt_from_env

_SECTION_KEYS = ("flows",)
_FLOW_KEYS = (
    "source",
    "target",
    "topics",
    "topics_exclude",
    "groups",
    "groups_exclude",
    "policy",
    "delete_with_source",
    "sync_group_offsets",
    "sync_configs",
    "carry_schemas",
    "refresh_interval",
    "checkpoint_interval",
    "offset_lag_max",
    "mask",
    "mask_salt_env",
    "source_registry",
)


@dataclass(frozen=True)
class FlowSpec:
    """A flow with the cluster specs its ends were given as (`NAME` or `NAME=HOST:PORT`)."""

    flow: Flow
    source: str
    target: str


def _alias(spec: str) -> str:
    return spec.partition("=")[0]


def read_flows(section: Any, reader: Reader, line: int) -> list[FlowSpec]:
    """The flows of one `replication:` section; `ConfigFileError` (file:line) when wrong."""
    mapping = reader.mapping(section, "replication", line)
    reader.keys(mapping, _SECTION_KEYS, "replication")
    flows = mapping.get("flows")
    if flows is None:
        return []
    if not isinstance(flows, LineList):
        raise reader.fail(mapping.line_of("flows"), "replication.flows must be a list")
    specs: list[FlowSpec] = []
    for index, (raw, item_line) in enumerate(zip(flows, flows.item_lines, strict=True)):
        where = f"replication.flows[{index}]"
        item = reader.mapping(raw, where, item_line)
        reader.keys(item, _FLOW_KEYS, where)
        source = reader.text(item, "source", where)
        target = reader.text(item, "target", where)
        if not source or not target:
            raise reader.fail(item_line, f"{where} needs source and target")
        options: dict[str, Any] = {}
        for key in (
            "topics",
            "topics_exclude",
            "groups",
            "groups_exclude",
            "policy",
            "source_registry",
        ):
            value = reader.text(item, key, where)
            if value is not None:
                options[key] = value
        for key in ("delete_with_source",):
            options[key] = reader.boolean(item, key, where)
        for key in ("sync_group_offsets", "sync_configs", "carry_schemas"):
            if key in item:
                options[key] = reader.boolean(item, key, where)
        for key, field in (
            ("refresh_interval", "refresh_interval_s"),
            ("checkpoint_interval", "checkpoint_interval_s"),
        ):
            seconds = reader.integer(item, key, where, 1, 86_400)
            if seconds is not None:
                options[field] = float(seconds)
        if "mask" in item:
            masks = reader.mapping(item["mask"], f"{where}.mask", item.line_of("mask"))
            options["mask"] = {
                str(tag).lower(): reader.text(masks, str(tag), f"{where}.mask") or ""
                for tag in masks
            }
            salt_env = reader.text(item, "mask_salt_env", where)
            options["mask_salt"] = salt_from_env(os.environ, salt_env)
        lag = reader.integer(item, "offset_lag_max", where, 1, 1_000_000)
        if lag is not None:
            options["offset_lag_max"] = lag
        try:
            flow = Flow(_alias(source), _alias(target), **options)
        except FlowError as exc:
            raise reader.fail(item_line, f"{where}: {exc}") from None
        specs.append(FlowSpec(flow, source, target))
    return specs


def read_sections(sections: list[tuple[Any, Reader]]) -> list[FlowSpec]:
    """Every flow of the `replication:` sections the governance loader kept."""
    specs: list[FlowSpec] = []
    for section, reader in sections:
        line = section.line if isinstance(section, LineMap) else 1
        specs.extend(read_flows(section, reader, line))
    return specs
