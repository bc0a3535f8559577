"""Base classes of every screen: a title bar, the connection banner, the footer, live data.

`DataScreen` loads its data through the app's client in `load()`, called on mount and on every
refresh tick; an unreachable server or an API error shows in the banner instead of crashing,
and the next tick retries. `TableScreen` adds a filterable table (`/`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import RowKey

import textfmt as fmt
from tui.client import ApiError, ServerUnreachableError, StreamgovClient
from tui.permissions import CLUSTER, Need

if TYPE_CHECKING:
    from tui.app import StreamgovApp

Cell = str | Text

#: Data-shape errors: an answer of an unexpected shape (another server version).
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True, slots=True)
class Row:
    """A table row: its key (stable across refreshes), its cells and the text `/` matches."""

    key: str
    cells: tuple[Cell, ...]

    @property
    def search_text(self) -> str:
        """Every cell's plain text, lower-cased."""
        return " ".join(c.plain if isinstance(c, Text) else c for c in self.cells).lower()


def cell_len(cell: Cell) -> int:
    """The cells a table cell's text takes on screen."""
    return cell.cell_len if isinstance(cell, Text) else Text(cell).cell_len


def clip(cell: Cell, width: int) -> Cell:
    """A table cell cut to `width` cells with an ellipsis."""
    if cell_len(cell) <= width:
        return cell
    if isinstance(cell, Text):
        clipped = cell.copy()
        clipped.truncate(width, overflow="ellipsis")
        return clipped
    return fmt.truncate(cell, width)


def column_widths(columns: Sequence[str], rows: Sequence[Row]) -> list[int]:
    """The width each column needs: its header or its widest cell."""
    widths = [cell_len(name) for name in columns]
    for row in rows:
        for index, cell in enumerate(row.cells[: len(widths)]):
            widths[index] = max(widths[index], cell_len(cell))
    return widths


class MeasuredTable(DataTable[Cell]):
    """A table that repaints every line once it has measured new rows.

    DataTable measures the columns of added rows when idle. A paint that comes before (a busy
    machine makes that likelier) caches lines drawn at the header's widths, and nothing
    invalidates them when the widths grow: rows the cursor does not touch stay cut short.
    Dropping the rendered lines after each measurement makes every line follow the widths."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._update_count += 1  # part of every rendered line's cache key
        self._clear_caches()
        self.refresh()


class FittedTable(DataTable[Cell]):
    """A pane's table whose column widths are set to fit the pane: the `flex` columns, in that
    order, are cut with an ellipsis while the content is wider (each down to a few cells); it
    fits itself again whenever its size changes, and the cursor stays on its row."""

    def __init__(self, columns: Sequence[str], flex: Sequence[int], *, id: str) -> None:
        super().__init__(id=id, cursor_type="row")
        self.fit_columns = tuple(columns)
        self.flex = tuple(flex)
        self.shown_rows: list[Row] = []
        self.add_columns(*columns)

    def show(self, rows: Sequence[Row]) -> None:
        """Show these rows, fitted to the current width."""
        self.shown_rows = list(rows)
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        if self.shown_rows:
            self._fit()

    def _fit(self) -> None:
        rows = self.shown_rows
        widths = column_widths(self.fit_columns, rows)
        available = self.size.width - 2  # two cells for the scrollbar
        if available > 0:  # not laid out yet: whole widths now, fitted on the first resize
            for index in self.flex:
                widths[index] = fmt.fit_width(widths, index, available)
        cursor = self.cursor_row
        self.clear(columns=True)
        for label, width in zip(self.fit_columns, widths, strict=True):
            self.add_column(label, width=width)
        for row in rows:
            cells = (clip(cell, width) for cell, width in zip(row.cells, widths, strict=True))
            self.add_row(*cells, key=row.key)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False)


def matches(row: Row, query: str) -> bool:
    """Whether the row matches the filter: every word of the query appears in it."""
    text = row.search_text
    return all(word in text for word in query.lower().split())


class DataScreen(Screen[None]):
    """A screen that shows data from the server and reloads it on every refresh tick."""

    #: What the title bar calls this screen (the trail after `streamgov`).
    TITLE_TEXT: ClassVar[str] = ""
    #: Actions that change something; disabled (and hidden) with `--readonly`.
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    #: What each action needs on the server; with authorization on, an action the user may
    #: not take is hidden, and its key says why instead of acting.
    NEEDS: ClassVar[dict[str, Need]] = {}
    #: Whether the refresh tick reloads this screen (off for screens the user pages through).
    LIVE: ClassVar[bool] = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Clear the filter, or go back")
    ]

    @property
    def sg(self) -> StreamgovApp:
        """The application, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def client(self) -> StreamgovClient:
        """The REST client."""
        return self.sg.client

    def compose(self) -> ComposeResult:
        yield Static(self._title_line(), id="title-bar")
        yield Static("", id="banner")
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the banner and the footer."""
        yield from ()

    def _title_line(self) -> Text:
        title = Text()
        title.append(" streamgov ", style="bold reverse")
        title.append(f" {self.title_text()} ", style="bold")
        title.append(f" {self.sg.where}", style="dim")
        if self.sg.readonly:
            title.append("  read-only", style="bold yellow")
        return title

    def title_text(self) -> str:
        """The trail shown in the title bar."""
        return self.TITLE_TEXT

    def is_live(self) -> bool:
        """Whether the refresh tick reloads this screen now (`LIVE` unless overridden)."""
        return self.LIVE

    def on_mount(self) -> None:
        self.reload()

    @work(exclusive=True, group="load")
    async def reload(self) -> None:
        """Load the data, showing failures in the banner (the next tick retries)."""
        if not self.is_mounted:
            return
        try:
            await self.load()
        except NoMatches:
            return  # the screen was closed (or not yet composed) while loading
        except ServerUnreachableError as exc:
            self.show_banner(f"{exc}; retrying every {self.sg.refresh_seconds:g}s")
        except ApiError as exc:
            self.show_banner(f"the server refused: {exc}")
            if exc.status == 401:
                self.sg.ask_login(exc.message)
        except SHAPE_ERRORS as exc:
            # An answer of an unexpected shape (another server version): say so, keep running.
            self.show_banner(f"unexpected answer from {self.client.url}: {exc!r}")
        else:
            self.hide_banner()
            await self._learn_permissions()

    async def _learn_permissions(self) -> None:
        """`load_permissions`, quietly: until the server answers, actions stay offered (a
        refused one still answers 403), and the next reload asks again."""
        try:
            await self.load_permissions()
        except ApiError as exc:
            if exc.status == 401:
                self.sg.ask_login(exc.message)
        except (NoMatches, ServerUnreachableError, *SHAPE_ERRORS):
            pass

    async def load(self) -> None:
        """Fetch and show this screen's data."""

    # -- what the user may do ------------------------------------------------------------------

    def resources_for(self, need: Need) -> list[str]:
        """The resources an action with this need may apply to here (the cluster, or what
        `resource_for` names)."""
        if need.cluster:
            return [CLUSTER]
        name = self.resource_for(need)
        return [] if name is None else [name]

    def resource_for(self, need: Need) -> str | None:
        """The resource a (non-cluster) action applies to now: the screen's own."""
        return self.own_resource()

    def own_resource(self) -> str | None:
        """What a detail screen shows (its topic, subject or group); None on a list."""
        return None

    async def load_permissions(self) -> None:
        """Ask the server what the user may do with what this screen's actions apply to."""
        permissions = self.sg.permissions
        if not self.NEEDS or permissions.unrestricted:
            return
        wanted = [
            (need.resource_type, name)
            for need in self.NEEDS.values()
            for name in self.resources_for(need)
        ]
        await permissions.learn(self.client, wanted)
        self.refresh_bindings()

    def refusal(self, action: str) -> str | None:
        """Why the user may not take `action` now (None: they may, or it is not known)."""
        need = self.NEEDS.get(action)
        if need is None:
            return None
        name = CLUSTER if need.cluster else self.resource_for(need)
        if name is None or self.sg.permissions.allows(need, name):
            return None
        return need.refusal(self.sg.permissions.principal, name)

    def on_key(self, event: events.Key) -> None:
        """A key of an action the user may not take says why (its binding is hidden)."""
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or event.key not in binding.key.split(","):
                continue
            reason = self.refusal(binding.action)
            if reason is not None:
                event.stop()
                self.notify(f"{binding.description}: {reason}", severity="error", timeout=8)
                return

    def show_banner(self, message: str) -> None:
        """Show a problem above the content."""
        for banner in self.query("#banner").results(Static):  # none before compose ends
            banner.update(Text(f" ! {message}"))
            banner.add_class("visible")

    def hide_banner(self) -> None:
        """Hide the banner."""
        for banner in self.query("#banner").results(Static):
            banner.remove_class("visible")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and self.sg.is_typing():
            return False  # `/` is typed into the input that has focus
        if action == "back" and not self.can_go_back():
            return False  # `esc` leaves the footer where it would do nothing
        if action in self.WRITE_ACTIONS and self.sg.readonly:
            return False
        return self.refusal(action) is None

    def can_go_back(self) -> bool:
        """Whether `esc` does something here: leave a detail screen."""
        return self.sg.in_detail()

    def action_back(self) -> None:
        """Go back to the previous screen (nothing on a top-level screen)."""
        self.sg.back()

    async def perform(self, description: str, coro: Any) -> bool:
        """Await a change, notify its outcome, and reload; True when it worked."""
        problem = await self.attempt(description, coro)
        if problem is not None:
            self.notify(problem, severity="error", timeout=8)
        return problem is None

    async def attempt(self, description: str, coro: Any) -> str | None:
        """Await a change; on success notify it and reload, on failure return why (for a
        dialog that stays open) without notifying."""
        try:
            await coro
        except (ApiError, ServerUnreachableError, *SHAPE_ERRORS) as exc:
            return f"{description} failed: {exc}"
        self.notify(f"{description}: done")
        self.reload()
        return None


class TableScreen(DataScreen):
    """A data screen around one table that `/` filters."""

    COLUMNS: ClassVar[Sequence[str]] = ()
    #: The column cut short (with an ellipsis) when the table is wider than the screen, so
    #: the others stay in view at 80 columns; None lets the table scroll sideways instead.
    FLEX_COLUMN: ClassVar[int | None] = 0
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Clear the filter, or go back"),
        # Priority for the same reason as `:` (see the app): `/orders` typed in one motion.
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            tooltip="Filter the table",
            priority=True,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []
        self.filter_text = ""

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter (esc clears)", id="filter")
        yield from self.compose_table()

    def compose_table(self) -> ComposeResult:
        """The table (and any panes around it)."""
        yield self.make_table()

    def make_table(self, table_id: str = "main") -> DataTable[Cell]:
        """The screen's main table with its columns."""
        table: DataTable[Cell] = MeasuredTable(
            id=table_id,
            cursor_type="row",
            zebra_stripes=True,
            cursor_foreground_priority="renderable",
        )
        table.add_columns(*self.COLUMNS)
        return table

    def on_mount(self) -> None:
        # Textual also runs DataScreen.on_mount (handlers run for every class in the MRO).
        self.table.focus()

    @property
    def table(self) -> DataTable[Cell]:
        """The main table."""
        return self.query_one("#main", DataTable)

    def set_rows(self, rows: list[Row]) -> None:
        """Replace the table's rows, keeping the cursor on the same key when it is still there."""
        self._rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        table = self.table
        current = self.selected_key()
        table.clear()
        shown = [r for r in self._rows if not self.filter_text or matches(r, self.filter_text)]
        fit = self._flex_width(self._rows)  # all rows: the width holds still while filtering
        for row in shown:
            cells = row.cells
            if fit is not None and self.FLEX_COLUMN is not None:
                index = self.FLEX_COLUMN
                cells = (*cells[:index], clip(cells[index], fit), *cells[index + 1 :])
            table.add_row(*cells, key=row.key)
        if current is not None:
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(current), animate=False)

    def _flex_width(self, shown: Sequence[Row]) -> int | None:
        """How wide the flexible column may be on this screen (None: no limit)."""
        if self.FLEX_COLUMN is None or not shown:
            return None
        widths = column_widths(self.COLUMNS, shown)
        # The table's own width once laid out; the screen's before. Two cells for the scrollbar.
        available = (self.table.size.width or self.app.size.width) - 2
        return fmt.fit_width(widths, self.FLEX_COLUMN, available)

    def on_resize(self, event: events.Resize) -> None:
        if self._rows:
            self._render_rows()

    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:
            return None
        return None if key.value is None else str(key.value)

    def resource_for(self, need: Need) -> str | None:
        """The screen's own resource, else the selected row's key (a topic, subject or
        group name)."""
        own = self.own_resource()
        return own if own is not None else self.selected_key()

    def resources_for(self, need: Need) -> list[str]:
        """The screen's own resource, else every row: moving the cursor then needs no new
        question to the server."""
        own = self.own_resource()
        if need.cluster or own is not None:
            return super().resources_for(need)
        return [row.key for row in self._rows]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.NEEDS:
            self.refresh_bindings()  # what the footer offers depends on the row

    def can_go_back(self) -> bool:
        """`esc` also clears the filter."""
        return super().can_go_back() or self._filtering()

    def _filtering(self) -> bool:
        fields = self.query("#filter").results(Input)
        return bool(self.filter_text) or any(f.has_class("visible") for f in fields)

    def action_filter(self) -> None:
        """Show the filter bar and type into it."""
        field = self.query_one("#filter", Input)
        field.add_class("visible")
        self.refresh_bindings()
        self.set_focus(field)  # now, not later: keys typed right after `/` go to the field

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self._render_rows()
            self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.remove_class("visible")
                self.refresh_bindings()
            self.table.focus()

    def action_back(self) -> None:
        """Clear the filter first; then go back."""
        field = self.query_one("#filter", Input)
        if field.has_class("visible") or self.filter_text:
            field.value = ""
            field.remove_class("visible")
            self.filter_text = ""
            self._render_rows()
            self.table.focus()
            self.refresh_bindings()
            return
        super().action_back()
