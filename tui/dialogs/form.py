"""A small modal form: labelled inputs and choice lists, returning the values on submit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

#: Checks one value; returns an error message, or None when the value is fine.
Validator = Callable[[str], str | None]
#: Does what the form is for; returns an error message (the form stays open with what was
#: typed), or None when it worked (the form closes).
Action = Callable[[dict[str, str]], Awaitable[str | None]]


@dataclass(frozen=True)
class FormField:
    """One field: free text, or one of `choices` when they are given."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    validate: Validator | None = None
    #: typed characters are not shown (a password)
    password: bool = False


def integer(
    low: int | None = None, high: int | None = None, *, optional: bool = False
) -> Validator:
    """A validator for whole numbers within [low, high]."""

    def check(text: str) -> str | None:
        if not text.strip():
            return None if optional else "required"
        try:
            number = int(text.strip())
        except ValueError:
            return f"{text.strip()!r} is not a whole number"
        if low is not None and number < low:
            return f"must be at least {low}"
        if high is not None and number > high:
            return f"must be at most {high}"
        return None

    return check


def required(text: str) -> str | None:
    """A validator for a non-empty value."""
    return None if text.strip() else "required"


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Fill in fields; `enter` (or the OK button) submits when every field is valid.

    With an `action`, submitting runs it first: when it fails the form stays open with what
    was typed and says why; when it works the form closes with the values.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        *,
        submit_label: str = "OK",
        action: Action | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._submit_label = submit_label
        self._action = action
        self._ready = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(Text(self._title), classes="dialog-title")
            for spec in self._fields:
                with Horizontal(classes="form-row"):
                    yield Label(spec.label, classes="form-label")
                    if spec.choices:
                        yield Select(
                            [(c, c) for c in spec.choices],
                            value=spec.value if spec.value in spec.choices else spec.choices[0],
                            allow_blank=False,
                            id=f"field-{spec.name}",
                        )
                    else:
                        yield Input(
                            value=spec.value,
                            placeholder=spec.placeholder,
                            password=spec.password,
                            id=f"field-{spec.name}",
                        )
            yield Static("", id="form-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._submit_label, id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # The first field has focus. Enter submits from a text field; on a choice list it
        # opens the list, and once a choice is made focus moves on (to the button after the
        # last field), so the next Enter submits.
        fields = self.query("Input, Select")
        (fields.first() if fields else self.query_one("#ok", Button)).focus()
        self.call_after_refresh(self._set_ready)

    def _set_ready(self) -> None:
        self._ready = True

    def on_select_changed(self, event: Select.Changed) -> None:
        if not self._ready or not event.select.has_focus:
            return  # the initial value, or a value set by code
        if event.select is list(self.query("Input, Select"))[-1]:
            self.query_one("#ok", Button).focus()
        else:
            self.focus_next()

    def values(self) -> dict[str, str]:
        """The current value of every field."""
        values: dict[str, str] = {}
        for spec in self._fields:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Select):
                values[spec.name] = str(widget.value)
            elif isinstance(widget, Input):
                values[spec.name] = widget.value
        return values

    def _submit(self) -> None:
        values = self.values()
        for spec in self._fields:
            problem = spec.validate(values[spec.name]) if spec.validate else None
            if problem:
                self.show_error(f"{spec.label}: {problem}")
                return
        if self._action is None:
            self.dismiss(values)
        else:
            self.run_worker(self._act(values), exclusive=True, group="form")

    async def _act(self, values: dict[str, str]) -> None:
        assert self._action is not None
        self.show_error("")
        problem = await self._action(values)
        if problem:
            self.show_error(problem)
        else:
            self.dismiss(values)

    def show_error(self, message: str) -> None:
        """Say what is wrong under the fields (empty: nothing)."""
        self.query_one("#form-error", Static).update(Text(message))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without values."""
        self.dismiss(None)
