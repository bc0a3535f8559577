"""A side-by-side diff of two versions of a subject."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.diff import DiffRow, side_by_side
from tui.screens.base import DataScreen

STYLES = {"same": "", "changed": "yellow", "removed": "red", "added": "green"}
MARKS = {"same": " ", "changed": "~", "removed": "-", "added": "+"}


def cells(row: DiffRow) -> tuple[Text, Text, Text]:
    """The marker, left and right cells of one diff row, coloured by change."""
    style = STYLES[row.change]
    return (
        Text(MARKS[row.change], style=style),
        Text(row.left, style=style),
        Text(row.right, style=style),
    )


class DiffScreen(DataScreen):
    """Two versions side by side: `-` only left, `+` only right, `~` changed."""

    LIVE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Clear the filter, or go back")
    ]

    def __init__(self, subject: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        super().__init__()
        self.subject = subject
        self.old = old
        self.new = new

    def title_text(self) -> str:
        return f"schemas > {self.subject} > v{self.old['version']} vs v{self.new['version']}"

    def compose_body(self) -> ComposeResult:
        rows = side_by_side(str(self.old.get("schema", "")), str(self.new.get("schema", "")))
        changed = sum(1 for r in rows if r.change != "same")
        yield Static(
            f" {changed} line(s) differ   - only in v{self.old['version']}   "
            f"+ only in v{self.new['version']}   ~ changed",
            classes="pane-title",
        )
        table: DataTable[Text] = DataTable(id="diff", cursor_type="row", zebra_stripes=False)
        # Each side gets half the terminal; longer lines are cut (the subject screen shows all).
        half = max(20, (self.app.size.width - 8) // 2)
        table.add_column("", width=1)
        table.add_column(f"v{self.old['version']} (id {self.old.get('id', '-')})", width=half)
        table.add_column(f"v{self.new['version']} (id {self.new.get('id', '-')})", width=half)
        for row in rows:
            table.add_row(*cells(row))
        yield table
