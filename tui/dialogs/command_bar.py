"""The `:` command bar: jump to a screen by name, with completion (k9s style)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def complete(text: str, names: list[str]) -> list[str]:
    """The names that start with `text` (case-insensitive), in order."""
    prefix = text.strip().lower()
    return [name for name in names if name.startswith(prefix)]


def common_prefix(names: list[str]) -> str:
    """The longest prefix every name shares."""
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def resolve(text: str, names: list[str]) -> str | None:
    """The one name `text` means: an exact name or a unique prefix; None otherwise."""
    wanted = text.strip().lower()
    if wanted in names:
        return wanted
    matches = complete(wanted, names)
    return matches[0] if len(matches) == 1 else None


class CommandScreen(ModalScreen[str | None]):
    """Type a command; `tab` completes, `enter` runs it, `esc` cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "complete", "Complete", priority=True),
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._names = names
        #: Characters typed before the input had focus (`:lag` typed in one motion).
        self._early = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="command-bar"):
            with Horizontal(id="command-line"):
                yield Static(":", id="command-prompt")
                yield Input(placeholder="topics, schemas, lag, quit (tab completes)", id="command")
            yield Static(self._hint(""), id="command-hint")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        if self._early:
            field.value, self._early = field.value + self._early, ""
            field.cursor_position = len(field.value)

    def on_key(self, event: events.Key) -> None:
        """Keep what is typed while the bar is still opening; it goes into the input."""
        if not event.is_printable or event.character is None:
            return
        fields = self.query(Input)
        if not fields or not fields.first().has_focus:
            event.stop()
            event.prevent_default()
            if fields:
                field = fields.first()
                field.focus()
                field.insert_text_at_cursor(event.character)
            else:
                self._early += event.character

    def _hint(self, text: str) -> Text:
        matches = complete(text, self._names)
        return Text("  ".join(f":{m}" for m in matches) if matches else "no such command")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#command-hint", Static).update(self._hint(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = resolve(event.value, self._names)
        if name is None:
            self.query_one("#command-hint", Static).update(
                Text(f"unknown command {event.value.strip()!r}: ") + self._hint("")
            )
            return
        self.dismiss(name)

    def action_complete(self) -> None:
        """Complete to the unique match, or to the longest common prefix of the matches."""
        field = self.query_one(Input)
        matches = complete(field.value, self._names)
        if matches:
            field.value = common_prefix(matches)
            field.cursor_position = len(field.value)

    def action_cancel(self) -> None:
        """Close without a command."""
        self.dismiss(None)
