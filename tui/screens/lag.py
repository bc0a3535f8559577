"""Consumer lag: every group with state, lag, time lag, status, history and recommendation."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

import textfmt as fmt
from tui.actions.lag import replicas_cell, status_cell
from tui.screens.base import Row, TableScreen


def group_row(group: dict[str, Any]) -> Row:
    """The table row of one monitored group (`GroupSummary` of the lag monitor API)."""
    history = [float(p.get("lag", 0)) for p in group.get("lag_history") or []]
    members = int(group.get("members", 0))
    return Row(
        str(group["group"]),
        (
            str(group["group"]),
            str(group.get("state", "-")),
            str(members),
            fmt.count(int(group.get("total_lag", 0))),
            fmt.seconds(group.get("time_lag_seconds"), bool(group.get("time_lag_is_lower_bound"))),
            status_cell(str(group.get("status", "-")), group.get("completeness")),
            Text(fmt.sparkline(history, 10), style="cyan"),
            replicas_cell(members, int(group.get("recommended_replicas", members))),
        ),
    )


def why(group: dict[str, Any]) -> Text:
    """The reasons behind a group's status and recommendation, shown under the table."""
    text = Text()
    text.append(f"{group['group']}: ", style="bold")
    text.append_text(status_cell(str(group.get("status", "-")), group.get("completeness")))
    text.append(f" {group.get('status_reason', '')}\n")
    text.append(f"replicas {group.get('recommended_replicas', '-')}: ", style="bold")
    text.append(str(group.get("recommendation_reason", "")))
    return text


class LagScreen(TableScreen):
    """All monitored consumer groups; enter opens one group's partitions."""

    TITLE_TEXT = "lag"
    COLUMNS = ("Group", "State", "Memb", "Lag", "Time lag", "Status", "History", "Replicas")
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("enter", "open", "Open", tooltip="Open the selected row"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, dict[str, Any]] = {}

    def compose_table(self) -> ComposeResult:
        yield self.make_table()
        yield Static("", id="lag-why")

    async def load(self) -> None:
        body = await self.client.lag_groups()
        groups = sorted(body.get("groups") or [], key=lambda g: str(g["group"]))
        self.groups = {str(g["group"]): g for g in groups}
        self.set_rows([group_row(g) for g in groups])
        self._show_why()

    def _show_why(self) -> None:
        key = self.selected_key()
        self.query_one("#lag-why", Static).update(
            why(self.groups[key]) if key in self.groups else Text("no consumer groups yet")
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_why()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the selected group's detail."""
        from tui.screens.lag_detail import LagDetailScreen

        group = self.selected_key()
        if group is not None:
            self.app.push_screen(LagDetailScreen(group))
