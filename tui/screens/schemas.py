"""Schemas: every subject with its latest version, schema type and compatibility level."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from tui.actions.schemas import change_level
from tui.client import StreamgovClient
from tui.permissions import Need
from tui.screens.base import Row, TableScreen


async def subject_row(client: StreamgovClient, subject: str) -> Row:
    """The table row of one subject."""
    latest, level = await asyncio.gather(
        client.schema_version(subject, "latest"), client.compatibility_level(subject)
    )
    return Row(
        subject,
        (
            subject,
            str(latest.get("version", "-")),
            str(latest.get("id", "-")),
            str(latest.get("schemaType") or "AVRO"),
            level or "-",
        ),
    )


class SchemasScreen(TableScreen):
    """All subjects; enter opens one's versions, `t` tests a candidate, `l` sets the level."""

    TITLE_TEXT = "schemas"
    COLUMNS = ("Subject", "Latest", "Id", "Type", "Compatibility")
    WRITE_ACTIONS = frozenset({"level"})
    NEEDS: ClassVar[dict[str, Need]] = {
        "level": Need("ALTER_CONFIGS", "SUBJECT"),
        "test": Need("WRITE", "SUBJECT"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("enter", "open", "Open", tooltip="Open the selected row"),
        Binding("t", "test", "Test compat", tooltip="Test a candidate schema"),
        Binding("l", "level", "Level", tooltip="Change the compatibility level"),
    ]

    async def load(self) -> None:
        subjects = await self.client.subjects()
        self.set_rows(list(await asyncio.gather(*(subject_row(self.client, s) for s in subjects))))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the selected subject's versions."""
        from tui.screens.subject import SubjectScreen

        subject = self.selected_key()
        if subject is not None:
            self.app.push_screen(SubjectScreen(subject))

    def action_test(self) -> None:
        """Test a candidate schema against the selected subject."""
        from tui.screens.compatibility import CompatibilityScreen

        subject = self.selected_key()
        if subject is not None:
            self.app.push_screen(CompatibilityScreen(subject))

    def action_level(self) -> None:
        """Change the selected subject's compatibility level."""
        subject = self.selected_key()
        if subject is None:
            return
        row = self.table.get_row(subject)
        change_level(self, subject, str(row[4]))
