"""One subject: its versions, the selected version's schema, diffs and compatibility tests."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.widgets import DataTable, Static

from tui.actions.schemas import change_level
from tui.diff import pretty
from tui.permissions import Need
from tui.screens.base import Row, TableScreen


def version_row(version: dict[str, Any], marked: bool) -> Row:
    """The table row of one version; a marked version (for a diff) carries a `*`."""
    number = str(version["version"])
    return Row(
        number,
        (
            Text(f"{'*' if marked else ' '}{number}", style="bold" if marked else ""),
            str(version.get("id", "-")),
            str(version.get("schemaType") or "AVRO"),
            str(len(pretty(str(version.get("schema", ""))).splitlines())),
        ),
    )


def schema_view(version: dict[str, Any]) -> Syntax | Text:
    """The schema text of a version, highlighted when it is JSON (Avro, JSON Schema)."""
    text = pretty(str(version.get("schema", "")))
    if str(version.get("schemaType") or "AVRO").upper() == "PROTOBUF":
        return Text(text)
    return Syntax(text, "json", theme="ansi_dark", word_wrap=True, background_color="default")


class SubjectScreen(TableScreen):
    """Versions of a subject; `space` marks one, `d` diffs the marked and the selected."""

    COLUMNS = ("Version", "Id", "Type", "Lines")
    WRITE_ACTIONS = frozenset({"level"})
    NEEDS: ClassVar[dict[str, Need]] = {
        "level": Need("ALTER_CONFIGS", "SUBJECT"),
        "test": Need("WRITE", "SUBJECT"),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("space", "mark", "Mark", tooltip="Mark a version to diff against"),
        Binding("d", "diff", "Diff", tooltip="Diff marked (or previous) and selected versions"),
        Binding("t", "test", "Test compat", tooltip="Test a candidate schema"),
        Binding("l", "level", "Level", tooltip="Change the compatibility level"),
    ]

    def __init__(self, subject: str) -> None:
        super().__init__()
        self.subject = subject
        self.versions: dict[str, dict[str, Any]] = {}
        self.marked: str | None = None
        self.level = ""
        self._first_load = True

    def own_resource(self) -> str:
        """This screen's subject: its actions apply to it."""
        return self.subject

    def title_text(self) -> str:
        level = f" ({self.level})" if self.level else ""
        return f"schemas > {self.subject}{level}"

    def compose_table(self) -> ComposeResult:
        with Container(id="panes"):
            yield self.make_table()
            with VerticalScroll(id="schema-text"):
                yield Static("", id="schema-body")

    async def load(self) -> None:
        numbers, level = await asyncio.gather(
            self.client.versions(self.subject), self.client.compatibility_level(self.subject)
        )
        fetched = await asyncio.gather(
            *(self.client.schema_version(self.subject, n) for n in numbers)
        )
        self.versions = {str(v["version"]): v for v in fetched}
        self.level = level
        self.query_one("#title-bar", Static).update(self._title_line())
        self._refresh_rows()
        if self._first_load and self.table.row_count:
            self.table.move_cursor(row=self.table.row_count - 1, animate=False)
            self._first_load = False
        self._show_selected()

    def _refresh_rows(self) -> None:
        self.set_rows([version_row(v, k == self.marked) for k, v in self.versions.items()])

    def _show_selected(self) -> None:
        key = self.selected_key()
        if key in self.versions:
            self.query_one("#schema-body", Static).update(schema_view(self.versions[key]))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def action_mark(self) -> None:
        """Mark (or unmark) the selected version as one side of a diff."""
        key = self.selected_key()
        self.marked = None if key == self.marked else key
        self._refresh_rows()

    def action_diff(self) -> None:
        """Diff the marked version (else the one before) against the selected one."""
        from tui.screens.schema_diff import DiffScreen

        key = self.selected_key()
        if key is None:
            return
        keys = list(self.versions)
        other = self.marked
        if other is None or other == key:
            index = keys.index(key)
            if index == 0:
                self.notify("mark another version with space, or select a later version")
                return
            other = keys[index - 1]
        old, new = sorted((other, key), key=int)
        self.app.push_screen(DiffScreen(self.subject, self.versions[old], self.versions[new]))

    def action_test(self) -> None:
        """Test a candidate schema against this subject."""
        from tui.screens.compatibility import CompatibilityScreen

        self.app.push_screen(CompatibilityScreen(self.subject))

    def action_level(self) -> None:
        """Change this subject's compatibility level."""
        change_level(self, self.subject, self.level)
