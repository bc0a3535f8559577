"""One topic: per-partition offsets, its configuration and the consumer groups reading it."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.widgets import DataTable, Static

import textfmt as fmt
from tui.actions.topics import alter_config, delete_topic
from tui.client import ApiError
from tui.permissions import Need
from tui.screens.base import FittedTable, Row, TableScreen


def group_rows(
    topic: str, groups: list[dict[str, Any]], lags: list[list[dict[str, Any]]]
) -> list[Row]:
    """One row per group with committed offsets on `topic`: state and lag on this topic."""
    rows = []
    for group, group_lags in zip(groups, lags, strict=True):
        on_topic = [lag for lag in group_lags if lag["topic_name"] == topic]
        if not on_topic:
            continue
        gid = str(group["consumer_group_id"])
        total = sum(int(lag["lag"]) for lag in on_topic)
        rows.append(Row(gid, (gid, str(group["state"]).title(), fmt.count(total))))
    return rows


class TopicDetailScreen(TableScreen):
    """Partitions, configuration and reading groups of one topic."""

    #: Short headers, so the partitions pane fits a third of a 110-column screen.
    COLUMNS = ("P", "Earliest", "Latest", "Records", "Size")
    CONFIG_COLUMNS = ("Key", "Value")
    GROUP_COLUMNS = ("Group", "State", "Lag")
    WRITE_ACTIONS = frozenset({"alter", "delete"})
    NEEDS: ClassVar[dict[str, Need]] = {
        "alter": Need("ALTER_CONFIGS", "TOPIC"),
        "delete": Need("DELETE", "TOPIC"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("b", "browse", "Browse", tooltip="Browse the records"),
        Binding("e", "alter", "Config", tooltip="Set or reset a config key"),
        Binding(
            "ctrl+d", "delete", "Delete", key_display="^d", tooltip="Delete the topic (asks first)"
        ),
        Binding("tab", "app.focus_next", "Next pane", tooltip="Move to the next pane"),
    ]

    def __init__(self, topic: str) -> None:
        super().__init__()
        self.topic = topic

    def own_resource(self) -> str:
        """This screen's topic: its actions apply to it."""
        return self.topic

    def title_text(self) -> str:
        return f"topics > {self.topic}"

    def compose_table(self) -> ComposeResult:
        with Container(id="panes"):
            with Vertical(classes="pane"):
                yield Static("Partitions", classes="pane-title")
                yield self.make_table()
            with Vertical(classes="pane"):
                yield Static("Configuration", classes="pane-title")
                # Long values are cut first, then long keys.
                yield FittedTable(self.CONFIG_COLUMNS, flex=(1, 0), id="configs")
            with Vertical(classes="pane"):
                yield Static("Consumer groups", classes="pane-title")
                yield FittedTable(self.GROUP_COLUMNS, flex=(0,), id="groups")

    async def load(self) -> None:
        partitions, configs, groups = await asyncio.gather(
            self.client.partitions(self.topic),
            self.client.configs(self.topic),
            self.client.consumer_groups(),
        )
        lags = await asyncio.gather(*(self._lags(str(g["consumer_group_id"])) for g in groups))
        self.set_rows(
            [
                Row(
                    str(p["partition_id"]),
                    (
                        str(p["partition_id"]),
                        fmt.count(int(p["earliest_offset"])),
                        fmt.count(int(p["latest_offset"])),
                        fmt.count(int(p["latest_offset"]) - int(p["earliest_offset"])),
                        fmt.size(p.get("size_bytes")),
                    ),
                )
                for p in partitions
            ]
        )
        self.query_one("#configs", FittedTable).show(
            [Row(k, (k, v if v is not None else "-")) for k, v in sorted(configs.items())]
        )
        self.query_one("#groups", FittedTable).show(group_rows(self.topic, groups, lags))

    async def _lags(self, group: str) -> list[dict[str, Any]]:
        try:
            return await self.client.group_lags(group)
        except ApiError:
            return []  # the group went away between the two calls

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` on a partition browses it; on a consumer group opens its lag."""
        event.stop()
        if event.data_table.id == "groups" and event.row_key.value is not None:
            from tui.screens.lag_detail import LagDetailScreen

            self.app.push_screen(LagDetailScreen(str(event.row_key.value)))
        elif event.data_table.id == "main":
            self.action_browse()

    def action_browse(self) -> None:
        """Browse this topic's records, from the selected partition."""
        from tui.screens.records import RecordsScreen

        key = self.selected_key()
        self.app.push_screen(RecordsScreen(self.topic, int(key) if key else 0))

    def action_alter(self) -> None:
        """Change a config key (the selected one by default)."""
        configs = self.query_one("#configs", DataTable)
        key = value = ""
        if configs.has_focus and configs.row_count:
            row = configs.get_row_at(configs.cursor_row)
            key, value = str(row[0]), str(row[1])
        alter_config(self, self.topic, key, value)

    def action_delete(self) -> None:
        """Delete this topic after confirmation, then go back."""
        delete_topic(self, self.topic, then_back=True)
