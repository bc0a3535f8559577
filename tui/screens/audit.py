"""The audit log: denied requests and allowed changes, newest first, filtered by principal,
action, result and time as `GET /audit` filters them (`f` asks for the filters, `d` shows
only denials)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui.dialogs.form import FormField, FormScreen
from tui.screens.base import Row, TableScreen

#: How many of the newest matching events the screen shows.
LIMIT = 500
RESULTS = ("any", "denied", "allowed")


def event_row(event: dict[str, Any]) -> Row:
    """One event: time, principal, result, what was asked and on what."""
    data = event.get("data") or {}
    info = data.get("authorizationInfo") or {}
    denied = event.get("type") == "io.streamgov.authorization" and not info.get("granted")
    result = Text("DENIED", style="bold red") if denied else Text("allowed", style="green")
    operation = info.get("operation")
    method = str(data.get("methodName") or "-")
    action = f"{operation} ({method})" if denied and operation else method
    return Row(
        str(event.get("id") or event.get("time")),
        (
            str(event.get("time") or "-"),
            str((data.get("authenticationInfo") or {}).get("principal") or "-"),
            result,
            action,
            str(event.get("subject") or data.get("resourceName") or "-"),
        ),
    )


class AuditScreen(TableScreen):
    """The newest audit events that match the filters."""

    TITLE_TEXT = "audit"
    COLUMNS = ("Time", "Principal", "Result", "Action", "Resource")
    FLEX_COLUMN = 3
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("f", "filters", "Filters", tooltip="Filter by principal, action, result, time"),
        Binding("d", "denied", "Denied", tooltip="Show only denied requests (toggle)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters: dict[str, str] = {}

    def title_text(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.filters.items() if v)
        return f"audit ({shown})" if shown else "audit"

    async def load(self) -> None:
        events = await self.client.audit(LIMIT, **self.filters)
        self.set_rows([event_row(e) for e in events])

    def _apply(self, filters: dict[str, str]) -> None:
        self.filters = {k: v.strip() for k, v in filters.items() if v.strip() and v != "any"}
        self.query_one("#title-bar", Static).update(self._title_line())
        self.reload()

    def action_denied(self) -> None:
        """Show only denials, or everything again."""
        denied = self.filters.get("result") == "denied"
        self._apply({**self.filters, "result": "" if denied else "denied"})

    def action_filters(self) -> None:
        """Ask for the filters (empty: any)."""

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._apply(values)

        current = self.filters
        fields = [
            FormField("principal", "Principal", current.get("principal", ""), "User:alice"),
            FormField("action", "Action", current.get("action", ""), "CreateTopics, WRITE"),
            FormField("result", "Result", current.get("result", "any"), choices=RESULTS),
            FormField("since", "Since", current.get("since", ""), "2026-12-05T03:00:00Z"),
            FormField("until", "Until", current.get("until", ""), "ISO 8601 time"),
        ]
        self.app.push_screen(FormScreen("Audit filters", fields, submit_label="Apply"), done)
