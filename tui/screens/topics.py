"""Topics: every topic with partitions, records, size, retention, cleanup and producers' rate."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

import textfmt as fmt
from tui.actions.topics import alter_config, delete_topic
from tui.client import ApiError, StreamgovClient
from tui.dialogs.form import FormField, FormScreen, integer, required
from tui.permissions import Need
from tui.screens.base import Cell, Row, TableScreen

CLEANUP_POLICIES = ("delete", "compact", "compact,delete")


@dataclass(frozen=True, slots=True)
class TopicOverview:
    """What the topics table shows about one topic."""

    name: str
    internal: bool
    partitions: int
    records: int
    #: Bytes held, None when the server cannot tell (Kafka) for some partition.
    size_bytes: int | None
    log_end: int
    retention_ms: str | None
    cleanup_policy: str | None


async def visible_configs(client: StreamgovClient, name: str) -> dict[str, str | None]:
    """The topic's configs, or none when the user may not DESCRIBE_CONFIGS it (the row still
    shows, with its retention and cleanup unknown)."""
    try:
        return await client.configs(name)
    except ApiError as exc:
        if exc.status == 403:
            return {}
        raise


async def fetch_overview(client: StreamgovClient, topic: dict[str, object]) -> TopicOverview:
    """Partitions and configs of one listed topic."""
    name = str(topic["topic_name"])
    partitions, configs = await asyncio.gather(
        client.partitions(name), visible_configs(client, name)
    )
    return TopicOverview(
        name=name,
        internal=bool(topic.get("is_internal")),
        partitions=len(partitions),
        records=sum(int(p["latest_offset"]) - int(p["earliest_offset"]) for p in partitions),
        size_bytes=total_size(partitions),
        log_end=sum(int(p["latest_offset"]) for p in partitions),
        retention_ms=configs.get("retention.ms"),
        cleanup_policy=configs.get("cleanup.policy"),
    )


async def catalog_entries(client: StreamgovClient) -> dict[str, dict[str, Any]]:
    """The catalog's streams by topic ({} when the server has no catalog)."""
    try:
        return {str(s["topic"]): s for s in await client.catalog_streams()}
    except ApiError:
        return {}


def carries_pii(stream: dict[str, Any] | None) -> bool:
    """Whether the catalog tags the stream, or one of its fields, `pii`."""
    if not stream:
        return False
    tags = [str(t) for t in stream.get("tags") or []]
    for field_tags in (stream.get("field_tags") or {}).values():
        tags.extend(str(t) for t in field_tags)
    return any(tag.partition("=")[0] == "pii" for tag in tags)


def topic_cell(name: str, stream: dict[str, Any] | None) -> Cell:
    """The topic's name, marked when it carries personal data."""
    if not carries_pii(stream):
        return name
    cell = Text(name)
    cell.append(" PII", style="bold magenta")
    return cell


def total_size(partitions: list[dict[str, object]]) -> int | None:
    """The partitions' `size_bytes` summed; None when any is unknown (or the server predates
    the field)."""
    sizes = [p.get("size_bytes") for p in partitions]
    if not sizes or any(not isinstance(s, int) for s in sizes):
        return None
    return sum(s for s in sizes if isinstance(s, int))


class RateTracker:
    """Producers' rate per topic from successive log-end offsets (records per second)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int]] = {}

    def update(self, name: str, log_end: int, now: float) -> float | None:
        """Record a sample; the rate since the previous one, or None for the first."""
        previous = self._last.get(name)
        self._last[name] = (now, log_end)
        if previous is None or now <= previous[0]:
            return None
        return max(0, log_end - previous[1]) / (now - previous[0])


def create_topic_fields() -> list[FormField]:
    """The create-topic dialog's fields."""
    return [
        FormField("name", "Name", placeholder="orders.v1", validate=required),
        FormField("partitions", "Partitions", value="1", validate=integer(1, 10_000)),
        FormField("cleanup", "Cleanup", value="delete", choices=CLEANUP_POLICIES),
        FormField(
            "retention",
            "Retention ms",
            placeholder="604800000 (7d); -1 keeps forever",
            validate=integer(-1, optional=True),
        ),
    ]


class TopicsScreen(TableScreen):
    """All topics; enter opens one, `b` browses its records."""

    TITLE_TEXT = "topics"
    COLUMNS = ("Topic", "Owner", "Parts", "Records", "Size", "Retention", "Cleanup", "Produce rate")
    WRITE_ACTIONS = frozenset({"create", "alter", "delete"})
    NEEDS: ClassVar[dict[str, Need]] = {
        "create": Need("CREATE", "CLUSTER", cluster=True),
        "alter": Need("ALTER_CONFIGS", "TOPIC"),
        "delete": Need("DELETE", "TOPIC"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("enter", "open", "Open", tooltip="Open the selected row"),
        Binding("b", "browse", "Browse", tooltip="Browse the records"),
        Binding("c", "create", "Create", tooltip="Create a topic"),
        Binding("e", "alter", "Config", tooltip="Set or reset a config key"),
        Binding(
            "ctrl+d", "delete", "Delete", key_display="^d", tooltip="Delete the topic (asks first)"
        ),
        Binding("i", "toggle_internal", "Internal", tooltip="Show or hide internal topics"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_internal = False
        self.rates = RateTracker()

    async def load(self) -> None:
        topics = await self.client.topics()
        shown = [t for t in topics if self.show_internal or not t.get("is_internal")]
        overviews = await asyncio.gather(*(fetch_overview(self.client, t) for t in shown))
        streams = await catalog_entries(self.client)
        now = time.monotonic()
        rows = []
        for o in overviews:
            rate = self.rates.update(o.name, o.log_end, now)
            rows.append(
                Row(
                    o.name,
                    (
                        topic_cell(o.name, streams.get(o.name)),
                        str((streams.get(o.name) or {}).get("owner") or "-"),
                        str(o.partitions),
                        fmt.count(o.records),
                        fmt.size(o.size_bytes),
                        fmt.duration_ms(o.retention_ms),
                        o.cleanup_policy or "-",
                        fmt.rate(rate),
                    ),
                )
            )
        self.set_rows(rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the selected topic's detail."""
        from tui.screens.topic_detail import TopicDetailScreen

        name = self.selected_key()
        if name is not None:
            self.app.push_screen(TopicDetailScreen(name))

    def action_browse(self) -> None:
        """Browse the selected topic's records."""
        from tui.screens.records import RecordsScreen

        name = self.selected_key()
        if name is not None:
            self.app.push_screen(RecordsScreen(name))

    def action_toggle_internal(self) -> None:
        """Show or hide internal topics (state logs)."""
        self.show_internal = not self.show_internal
        self.reload()

    def action_create(self) -> None:
        """Ask for a new topic's settings and create it."""

        async def create(values: dict[str, str]) -> str | None:
            configs = {"cleanup.policy": values["cleanup"]}
            if values["retention"].strip():
                configs["retention.ms"] = values["retention"].strip()
            return await self.attempt(
                f"create topic {values['name'].strip()}",
                self.client.create_topic(
                    values["name"].strip(), int(values["partitions"]), configs
                ),
            )

        # A refused name or setting keeps the dialog open with what was typed.
        self.app.push_screen(
            FormScreen("Create topic", create_topic_fields(), submit_label="Create", action=create)
        )

    def action_alter(self) -> None:
        """Change one config key of the selected topic."""
        name = self.selected_key()
        if name is not None:
            alter_config(self, name)

    def action_delete(self) -> None:
        """Delete the selected topic after confirmation."""
        name = self.selected_key()
        if name is not None:
            delete_topic(self, name)
