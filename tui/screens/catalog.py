"""The stream catalog: streams with owner, namespace, tags and lifecycle; `/` is the server's
ranked full-text search; enter opens a stream's fields, consumers, producers and drift."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

import textfmt as fmt
from tui.client import ApiError, ServerUnreachableError
from tui.screens.base import DataScreen, Row, TableScreen

#: How lifecycles look in the tables.
LIFECYCLE_STYLE = {"active": "green", "deprecated": "yellow", "retired": "dim"}
#: Tags that matter for governance stand out.
TAG_STYLE = {"pii": "bold magenta", "financial": "bold cyan"}


def tags_cell(tags: list[str]) -> Text:
    """Tags, with `pii` and `financial` highlighted."""
    text = Text()
    for index, tag in enumerate(tags):
        if index:
            text.append(",")
        text.append(tag, style=TAG_STYLE.get(tag.partition("=")[0], ""))
    return text or Text("-")


def stream_row(stream: dict[str, Any]) -> Row:
    """The table row of one catalogued stream."""
    lifecycle = str(stream.get("lifecycle") or "active")
    return Row(
        str(stream["topic"]),
        (
            str(stream["topic"]),
            str(stream.get("owner") or "-"),
            str(stream.get("namespace") or "-"),
            tags_cell([str(t) for t in stream.get("tags") or []]),
            Text(lifecycle, style=LIFECYCLE_STYLE.get(lifecycle, "")),
        ),
    )


class CatalogScreen(TableScreen):
    """Every catalogued stream; `/` searches names, tags, owners and fields on the server."""

    TITLE_TEXT = "catalog"
    COLUMNS = ("Stream", "Owner", "Namespace", "Tags", "Lifecycle")
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("enter", "open", "Open", tooltip="Open the selected stream"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: the server's ranking for the current search text (None: no search)
        self.ranked: list[str] | None = None

    async def load(self) -> None:
        streams = await self.client.catalog_streams()
        self.set_rows([stream_row(s) for s in sorted(streams, key=lambda s: str(s["topic"]))])

    def _render_rows(self) -> None:
        if not self.filter_text or self.ranked is None:
            super()._render_rows()
            return
        by_key = {row.key: row for row in self._rows}
        table = self.table
        table.clear()
        for topic in self.ranked:
            if topic in by_key:
                table.add_row(*by_key[topic].cells, key=topic)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.filter_text = event.value
            self.search(event.value)
            self.refresh_bindings()

    @work(exclusive=True, group="search")
    async def search(self, text: str) -> None:
        """Ask the server's ranked search; a query with no word shows every stream."""
        try:
            self.ranked = await self.client.catalog_search(text) if text.strip() else None
        except ApiError:
            self.ranked = []  # no searchable word in it: nothing matches
        except ServerUnreachableError as exc:
            self.show_banner(str(exc))
            return
        self._render_rows()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the selected stream."""
        topic = self.selected_key()
        if topic is not None:
            self.app.push_screen(StreamDetailScreen(topic))


def consumer_row(consumer: dict[str, Any]) -> Row:
    """A consumer of the stream: declared and/or observed, live, lag, whether it counts."""
    lag = consumer.get("lag")
    replacement = consumer.get("replacement_lag")
    return Row(
        str(consumer["group"]),
        (
            str(consumer["group"]),
            str(consumer.get("service") or "-"),
            "yes" if consumer.get("declared") else "no",
            "yes" if consumer.get("observed") else "no",
            Text("live", style="green") if consumer.get("live") else Text("idle", style="dim"),
            "-" if lag is None else fmt.count(int(lag)),
            "-" if replacement is None else fmt.count(int(replacement)),
        ),
    )


def overview(stream: dict[str, Any]) -> Text:
    """Owner, namespace, tags, lifecycle, deprecation and drift of a stream, in a few lines."""
    text = Text()
    text.append("owner ", style="bold")
    text.append(str(stream.get("owner") or "-"))
    text.append("  namespace ", style="bold")
    text.append(str(stream.get("namespace") or "-"))
    text.append("  lifecycle ", style="bold")
    lifecycle = str(stream.get("lifecycle") or "active")
    text.append(lifecycle, style=LIFECYCLE_STYLE.get(lifecycle, ""))
    text.append("\ntags ", style="bold")
    text.append_text(tags_cell([str(t) for t in stream.get("tags") or []]))
    if stream.get("description"):
        text.append(f"\n{stream['description']}", style="italic")
    deprecated = stream.get("deprecated")
    if deprecated:
        text.append("\ndeprecated ", style="bold yellow")
        text.append(
            f"since {deprecated.get('since')}, replacement {deprecated.get('replacement') or '-'}, "
            f"sunset {deprecated.get('sunset') or '-'}"
        )
        counting = [c["group"] for c in stream.get("consumer_details") or [] if c.get("counts")]
        text.append(
            f"; still read by {', '.join(counting)}" if counting else "; no consumer left",
            style="yellow" if counting else "green",
        )
    for item in stream.get("drift") or []:
        violation = item.get("kind") == "single_writer_violation"
        text.append(
            "\n" + ("✖ " if violation else "• "), style="bold red" if violation else "yellow"
        )
        text.append(str(item.get("message")), style="red" if violation else "")
    return text


class StreamDetailScreen(DataScreen):
    """One stream: its overview, schema fields with tags, consumers with lag, producers."""

    def __init__(self, topic: str) -> None:
        super().__init__()
        self.topic = topic

    def title_text(self) -> str:
        return f"catalog > {self.topic}"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="stream-overview")
        fields: DataTable[Any] = DataTable(
            id="stream-fields", cursor_type="row", zebra_stripes=True
        )
        fields.add_columns("Part", "Field", "Tags")
        yield fields
        consumers: DataTable[Any] = DataTable(
            id="stream-consumers", cursor_type="row", zebra_stripes=True
        )
        consumers.add_columns("Group", "Service", "Declared", "Seen", "Live", "Lag", "On new")
        yield consumers
        producers: DataTable[Any] = DataTable(
            id="stream-producers", cursor_type="row", zebra_stripes=True
        )
        producers.add_columns("Producer", "Client", "Owner")
        yield producers

    async def load(self) -> None:
        stream = await self.client.catalog_stream(self.topic)
        self.query_one("#stream-overview", Static).update(overview(stream))
        fields = self.query_one("#stream-fields", DataTable)
        fields.clear()
        for field in stream.get("fields") or []:
            fields.add_row(
                str(field["part"]), str(field["path"]), tags_cell([str(t) for t in field["tags"]])
            )
        consumers = self.query_one("#stream-consumers", DataTable)
        consumers.clear()
        for consumer in stream.get("consumer_details") or []:
            row = consumer_row(consumer)
            consumers.add_row(*row.cells, key=row.key)
        producers = self.query_one("#stream-producers", DataTable)
        producers.clear()
        for producer in stream.get("producers") or []:
            owner = bool(producer.get("owner"))
            producers.add_row(
                str(producer["principal"]),
                str(producer.get("client_id") or "-"),
                Text("owner", style="green") if owner else Text("NOT OWNER", style="bold red"),
            )
