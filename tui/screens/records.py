"""Browse a partition's records from the beginning, the end, an offset or a timestamp, page
by page (forwards and back), or follow the newest records as they arrive.

Keys and values framed with a schema id are decoded through the registry (Avro or JSON);
other bytes (and header values) show as JSON, text or hex.
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
from tui.decode import Decoded, plain
from tui.dialogs.form import FormField, FormScreen, integer, required
from tui.screens.base import Row, TableScreen

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


def header_text(value: str | None) -> str:
    """A header value (base64 from the API) as text: JSON or UTF-8 when it is, else hex."""
    if value is None:
        return "null"
    return plain(base64.b64decode(value)).text


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
    """One page of a partition's records; the selected one is shown in full below. In follow
    mode (`f`) the newest page is read again on every refresh tick, cursor on the newest."""

    LIVE = False
    COLUMNS = ("Offset", "Timestamp (UTC)", "Key", "Value")
    FLEX_COLUMN = 3
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("g", "beginning", "Begin", tooltip="Read from the first record"),
        Binding("G", "end", "End", key_display="G", tooltip="Read the newest records"),
        Binding("n", "next_page", "Next", tooltip="Next page of records"),
        Binding("N", "previous_page", "Prev", key_display="N", tooltip="Previous page"),
        Binding("f", "follow", "Follow", tooltip="Follow new records as they arrive (toggle)"),
        Binding("r", "reload_page", "Refresh", tooltip="Read this page again"),
        Binding("o", "offset", "Offset", tooltip="Read from an offset"),
        Binding("t", "timestamp", "Time", tooltip="Read from a time"),
        Binding("p", "partition", "Partition", tooltip="Switch partition"),
    ]

    def __init__(self, topic: str, partition: int = 0) -> None:
        super().__init__()
        self.topic = topic
        self.partition = partition
        self.start = Start()
        self.following = False
        self.next_offset: int | None = None
        self.first_offset: int | None = None
        self.earliest_offset = 0
        self.latest_offset = 0
        self.partition_count: int | None = None
        self.shown: dict[str, ShownRecord] = {}

    def title_text(self) -> str:
        where = "following the newest" if self.following else self.start.describe()
        return f"topics > {self.topic} > partition {self.partition} ({where})"

    def is_live(self) -> bool:
        return self.following

    def compose_table(self) -> ComposeResult:
        with Container(id="records-panes"):
            yield self.make_table()
            with VerticalScroll(id="record-detail"):
                yield Static("", id="record-text")

    async def load(self) -> None:
        if self.partition_count is None:
            self.partition_count = len(await self.client.partitions(self.topic))
        page = await self.client.records(
            self.topic,
            self.partition,
            offset=self.start.offset,
            timestamp=self.start.timestamp,
            position=self.start.position,
            limit=PAGE,
        )
        self.next_offset = int(page["next_offset"])
        self.earliest_offset = int(page["earliest_offset"])
        self.latest_offset = int(page["latest_offset"])
        shown: dict[str, ShownRecord] = {}
        rows = []
        for item in page["data"]:
            record = ShownRecord(
                offset=int(item["offset"]),
                timestamp=str(item["timestamp"]),
                key=await self.sg.schemas.decode(raw(item.get("key"))),
                value=await self.sg.schemas.decode(raw(item.get("value"))),
                headers=[(h["name"], header_text(h["value"])) for h in item.get("headers") or []],
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
        self.first_offset = min((record.offset for record in shown.values()), default=None)
        self.query_one("#title-bar", Static).update(self._title_line())
        self.set_rows(rows)
        if self.following and rows:
            self.table.move_cursor(row=len(rows) - 1, animate=False)
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

    def _go(self, start: Start, *, follow: bool = False) -> None:
        self.start = start
        self.following = follow
        self.query_one("#title-bar", Static).update(self._title_line())
        self.reload()

    def action_beginning(self) -> None:
        """Read from the partition's first record."""
        self._go(Start(position="earliest"))

    def action_end(self) -> None:
        """Read the newest records."""
        self._go(Start(position="latest"))

    def action_next_page(self) -> None:
        """Read the page after this one (at the end: say so and stay)."""
        if self.next_offset is None:
            return
        if self.next_offset >= self.latest_offset:
            self.notify(
                f"End of partition {self.partition}: nothing after offset "
                f"{self.latest_offset - 1} yet (f follows new records)"
            )
            return
        self._go(Start(offset=self.next_offset, position=None))

    def action_previous_page(self) -> None:
        """Read the page before this one (at the start: say so and stay)."""
        first = self.first_offset if self.first_offset is not None else self.latest_offset
        if first <= self.earliest_offset:
            self.notify(f"Start of partition {self.partition}: offset {self.earliest_offset}")
            return
        self._go(Start(offset=max(self.earliest_offset, first - PAGE), position=None))

    def action_follow(self) -> None:
        """Toggle follow mode: the newest records, read again on every refresh tick."""
        if self.following:
            self.following = False
            self.query_one("#title-bar", Static).update(self._title_line())
            self.notify("Stopped following")
            return
        self._go(Start(position="latest"), follow=True)

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

        # Only partitions that exist: a wrong number is refused in the dialog, and the page
        # shown stays usable.
        last = None if self.partition_count is None else self.partition_count - 1
        fields = [
            FormField(
                "partition",
                "Partition",
                value=str(self.partition),
                placeholder="" if last is None else f"0..{last}",
                validate=integer(0, last),
            )
        ]
        self.app.push_screen(FormScreen("Partition", fields, submit_label="Read"), done)
