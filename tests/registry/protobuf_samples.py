"""Protobuf schemas shared by the Protobuf tests: a file with an import and nested messages."""

from __future__ import annotations

from google.protobuf import message_factory
from google.protobuf.message import Message

from registry.formats.base import ResolvedReference
from registry.formats.protobuf import ProtobufSchema, parse_protobuf

MONEY = """syntax = "proto3";
package common;

message Money {
  string currency = 1;
  int64 units = 2;
}
"""

ORDER = """syntax = "proto3";
package shop;

import "common/money.proto";
import "google/protobuf/timestamp.proto";

// An order as the shop writes it.
message Order {
  string id = 1;
  common.Money total = 2;
  repeated Line lines = 3;
  map<string, string> labels = 4;
  google.protobuf.Timestamp placed = 5;
  oneof payment {
    string card = 6;
    string voucher = 7;
  }
  Status status = 8;
  optional int32 priority = 9;

  message Line {
    string sku = 1;
    uint32 quantity = 2;
    message Note { string text = 1; }
    Note note = 3;
  }
}

enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_PLACED = 1;
}

message Refund {
  string order_id = 1;
  common.Money amount = 2;
}
"""

MONEY_REF = ResolvedReference("common/money.proto", "common/money.proto", 1, MONEY)


def order_schema() -> ProtobufSchema:
    """ORDER compiled with its import."""
    return parse_protobuf(ORDER, [MONEY_REF])


def message_class(schema: ProtobufSchema, full_name: str) -> type[Message]:
    """A message class built from a compiled schema."""
    return message_factory.GetMessageClass(schema.message_named(full_name))
