"""Browse a partition's records from the beginning, the end, an offset or a timestamp.

Keys and values framed with a schema id are decoded through the registry (Avro or JSON);
other bytes show as JSON, text or hex.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.widgets import DataTable, Static

import textfmt as fmt
from tui.decode import Decoded
from tui.screens.base import Row, TableScreen
from tui.widgets.form import FormField, FormScreen, integer, required

PAGE = 100


@dataclass(frozen=True)
class Start:
    """Where the page starts: one of offset, timestamp or position (earliest/latest)."""

    offset: int | None = None
    timestamp: str | None = None
    position: str | None = "earliest"

    def describe(self) -> str:
        """Words for the title bar."""
        if self.offset is not None:
            return f"from offset {self.offset}"
        if self.timestamp is not None:
            return f"from {self.timestamp}"
        return "newest" if self.position == "latest" else "from the beginning"


@dataclass(frozen=True)
class ShownRecord:
    """A read record with its decoded key and value."""

    offset: int
    timestamp: str
    key: Decoded
    value: Decoded
    headers: list[tuple[str, str]]


def raw(part: dict[str, Any] | None) -> bytes | None:
    """The bytes of a record's key or value as the API returns them (base64)."""
    if part is None:
        return None
    return base64.b64decode(part["data"])


def short_time(iso: str) -> str:
    """`2026-11-26T06:20:00.000+00:00` as `2026-11-26 06:20:00.000`."""
    return iso.replace("T", " ").removesuffix("+00:00")


def details(record: ShownRecord) -> Text:
    """The full view of one record below the table."""
    text = Text()
    text.append(f"offset {record.offset}  {short_time(record.timestamp)}\n", style="bold")
    for label, part in (("key", record.key), ("value", record.value)):
        schema = f" schema {part.schema_id}" if part.schema_id is not None else ""
        text.append(f"{label} ({part.kind}{schema}): ", style="bold cyan")
        text.append(_pretty(part) + "\n")
    for name, value in record.headers:
        text.append(f"header {name}: ", style="bold magenta")
        text.append(value + "\n")
    return text


def _pretty(part: Decoded) -> str:
    if part.kind in {"json", "avro", "json-schema"}:
        try:
            return json.dumps(json.loads(part.text), indent=2, ensure_ascii=False)
        except ValueError:
            return part.text
    return part.text


class RecordsScreen(TableScreen):
    """One page of a partition's records; the selected one is shown in full below."""

    LIVE = False
    COLUMNS = ("Offset", "Timestamp (UTC)", "Key", "Value")
    FLEX_COLUMN = 3
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("g", "beginning", "Begin", tooltip="Read from the first record"),
        Binding("G", "end", "End", key_display="G", tooltip="Read the newest records"),
        Binding("o", "offset", "Offset", tooltip="Read from an offset"),
        Binding("t", "timestamp", "Time", tooltip="Read from a time"),
        Binding("p", "partition", "Partition", tooltip="Switch partition"),
        Binding("n", "next_page", "Next", tooltip="Next page of records"),
        Binding("r", "reload_page", "Reload", show=False, tooltip="Read this page again"),
    ]

    def __init__(self, topic: str, partition: int = 0) -> None:
        super().__init__()
        self.topic = topic
        self.partition = partition
        self.start = Start()
        self.next_offset: int | None = None
        self.shown: dict[str, ShownRecord] = {}

    def title_text(self) -> str:
        return f"topics > {self.topic} > partition {self.partition} ({self.start.describe()})"

    def compose_table(self) -> ComposeResult:
        with Container(id="records-panes"):
            yield self.make_table()
            with VerticalScroll(id="record-detail"):
                yield Static("", id="record-text")

    async def load(self) -> None:
        page = await self.client.records(
            self.topic,
            self.partition,
            offset=self.start.offset,
            timestamp=self.start.timestamp,
            position=self.start.position,
            limit=PAGE,
        )
        self.next_offset = int(page["next_offset"])
        shown: dict[str, ShownRecord] = {}
        rows = []
        for item in page["data"]:
            record = ShownRecord(
                offset=int(item["offset"]),
                timestamp=str(item["timestamp"]),
                key=await self.sg.schemas.decode(raw(item.get("key"))),
                value=await self.sg.schemas.decode(raw(item.get("value"))),
                headers=[
                    (h["name"], repr(base64.b64decode(h["value"] or "")))
                    for h in item.get("headers") or []
                ],
            )
            key = str(record.offset)
            shown[key] = record
            rows.append(
                Row(
                    key,
                    (
                        key,
                        short_time(record.timestamp),
                        fmt.truncate(record.key.text, 16),
                        fmt.truncate(record.value.text, 60),
                    ),
                )
            )
        self.shown = shown
        self.query_one("#title-bar", Static).update(self._title_line())
        self.set_rows(rows)
        if not rows:
            self.query_one("#record-text", Static).update(
                f"No records {self.start.describe()} (partition holds offsets "
                f"{page['earliest_offset']}..{int(page['latest_offset']) - 1})."
            )
        else:
            self._show_selected()

    def _show_selected(self) -> None:
        key = self.selected_key()
        if key is not None and key in self.shown:
            self.query_one("#record-text", Static).update(details(self.shown[key]))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _go(self, start: Start) -> None:
        self.start = start
        self.reload()

    def action_beginning(self) -> None:
        """Read from the partition's first record."""
        self._go(Start(position="earliest"))

    def action_end(self) -> None:
        """Read the newest records."""
        self._go(Start(position="latest"))

    def action_next_page(self) -> None:
        """Read the page after this one."""
        if self.next_offset is not None:
            self._go(Start(offset=self.next_offset, position=None))

    def action_reload_page(self) -> None:
        """Read this page again."""
        self.reload()

    def action_offset(self) -> None:
        """Ask for an offset and read from it."""

        def done(values: dict[str, str] | None) -> None:
            if values:
                self._go(Start(offset=int(values["offset"]), position=None))

        fields = [FormField("offset", "Offset", validate=integer(0))]
        self.app.push_screen(FormScreen("Read from offset", fields, submit_label="Read"), done)

    def action_timestamp(self) -> None:
        """Ask for a time and read from the first record at or after it."""

        def done(values: dict[str, str] | None) -> None:
            if values:
                self._go(Start(timestamp=values["timestamp"].strip(), position=None))

        fields = [
            FormField(
                "timestamp",
                "Time",
                placeholder="2026-01-31T12:00:00Z or epoch ms",
                validate=required,
            )
        ]
        self.app.push_screen(FormScreen("Read from time", fields, submit_label="Read"), done)

    def action_partition(self) -> None:
        """Switch to another partition (from its beginning)."""

        def done(values: dict[str, str] | None) -> None:
            if values:
                self.partition = int(values["partition"])
                self._go(Start(position="earliest"))

        fields = [
            FormField("partition", "Partition", value=str(self.partition), validate=integer(0))
        ]
        self.app.push_screen(FormScreen("Partition", fields, submit_label="Read"), done)
