"""Advice for each incompatible Protobuf change (rule names are Confluent's `Difference.Type`)."""

from __future__ import annotations

ADVICE: dict[str, str] = {
    "PACKAGE_CHANGED": "keep the package, or register the renamed package under a new subject",
    "MESSAGE_REMOVED": "keep the message (it may be deprecated with `option deprecated = true;`)",
    "FIELD_KIND_CHANGED": "keep the field's kind (scalar or enum, message, map), or add a new "
    "field with a new number instead and reserve the old one",
    "FIELD_SCALAR_KIND_CHANGED": "change only between types with the same wire encoding "
    "(int32/int64/uint32/uint64/bool/enum, sint32/sint64, string/bytes, fixed32/sfixed32, "
    "fixed64/sfixed64), or add a new field and reserve the old number",
    "FIELD_NAMED_TYPE_CHANGED": "keep the message type (same name, compatible fields), or add a "
    "new field with a new number for another type",
    "FIELD_NUMERIC_LABEL_CHANGED": "keep the label of numeric fields, or add a new repeated "
    "field with a new number instead",
    "REQUIRED_FIELD_ADDED": "make the new field optional (proto2 `optional`, or any proto3 field)",
    "REQUIRED_FIELD_REMOVED": "keep the required field (old readers fail without it)",
    "ONEOF_FIELD_REMOVED": "keep the field in the oneof, or remove the whole oneof at once",
    "MULTIPLE_FIELDS_MOVED_TO_ONEOF": "move at most one existing field into a new oneof and leave "
    "the others outside it",
    "FIELD_MOVED_TO_EXISTING_ONEOF": "leave existing fields outside an existing oneof and add "
    "new fields to it instead",
}


def sentence(rule: str, detail: str) -> str:
    """What changed, then what to do about it."""
    advice = ADVICE.get(rule)
    return f"{detail}; {advice}" if advice else detail
