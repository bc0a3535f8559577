"""Test a candidate schema against a subject's latest version, with the registry's reasons."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static, TextArea

from tui.client import ApiError, ServerUnreachableError
from tui.diff import pretty
from tui.screens.base import SHAPE_ERRORS, DataScreen

SCHEMA_TYPES = ("AVRO", "JSON", "PROTOBUF")
#: Largest schema file the screen loads.
MAX_SCHEMA_FILE = 1024 * 1024


def read_schema_file(path_text: str) -> str:
    """The text of a local schema file; ValueError naming the problem otherwise."""
    if not path_text.strip():
        raise ValueError("type the path of a schema file first, then enter or ctrl+o")
    path = Path(path_text.strip()).expanduser()
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    if path.stat().st_size > MAX_SCHEMA_FILE:
        raise ValueError(f"{path} is larger than {MAX_SCHEMA_FILE // 1024} KiB")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None


#: Confluent's verbose compatibility message: `{errorType:'...', description:'...',
#: additionalInfo:'<direction> check against <version> at <pointer>'}`.
_MESSAGE = re.compile(
    r"^\{errorType:'(?P<rule>[^']*)', description:'(?P<problem>.*)', "
    r"additionalInfo:'(?P<info>.*)'\}$",
    re.DOTALL,
)
_INFO = re.compile(r"^(?P<direction>\w+) check against (?P<against>.+?) at (?P<at>\S*)$")


def reason_rows(message: str) -> tuple[str, list[tuple[str, str]]]:
    """A registry message as `streamgov check` shows a finding: the rule as a heading and
    (name, value) rows for `against`, `at` and `problem`. A message of another shape is its
    own heading."""
    found = _MESSAGE.match(message)
    if found is None:
        return message, []
    rows = []
    info = _INFO.match(found["info"])
    if info is not None:
        rows.append(("against", f"{info['against']} ({info['direction']} check)"))
        rows.append(("at", info["at"] or "/"))
    elif found["info"]:
        rows.append(("info", found["info"]))
    rows.append(("problem", found["problem"]))
    return found["rule"], rows


def verdict(compatible: bool, messages: list[str]) -> Text:
    """The outcome of a test, green or red, with each of the registry's reasons laid out as
    `streamgov check` lays out a finding."""
    text = Text()
    if compatible:
        text.append("compatible", style="bold green")
    else:
        text.append("NOT compatible", style="bold red")
    for message in messages:
        heading, rows = reason_rows(message)
        text.append("\n")
        text.append(heading, style="bold")
        for name, value in rows:
            text.append(f"\n  {name + ':':<9}{value}")
    return text


class CompatibilityScreen(DataScreen):
    """Paste or load a candidate, pick its type and press ctrl+t to test it."""

    LIVE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", priority=True),
        Binding("ctrl+t", "test", "Test", priority=True),
        Binding("ctrl+o", "load", "Load file", priority=True),
    ]

    def __init__(self, subject: str) -> None:
        super().__init__()
        self.subject = subject
        self._prefilled = False

    def title_text(self) -> str:
        return f"schemas > {self.subject} > test compatibility"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="compat-controls"):
            yield Input(
                placeholder="schema file to load (enter); tab edits the candidate", id="schema-path"
            )
            yield Select(
                [(t, t) for t in SCHEMA_TYPES], value="AVRO", allow_blank=False, id="schema-type"
            )
        yield TextArea(
            id="candidate", soft_wrap=True, show_line_numbers=True, tab_behavior="indent"
        )
        yield Static(
            "type a schema file's path and press enter, or tab to edit the candidate (the "
            "latest version to start from); ctrl+t tests it",
            id="compat-result",
        )

    def on_mount(self) -> None:
        # The path first: what is typed right away is a path, never an edit of the schema.
        self.query_one("#schema-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "schema-path":
            event.stop()
            self.action_load()

    async def load(self) -> None:
        if self._prefilled:
            return
        latest = await self.client.schema_version(self.subject, "latest")
        self.query_one("#candidate", TextArea).text = pretty(str(latest.get("schema", "")))
        self.query_one("#schema-type", Select).value = str(latest.get("schemaType") or "AVRO")
        self._prefilled = True

    def action_load(self) -> None:
        """Replace the candidate with the file named in the path field."""
        result = self.query_one("#compat-result", Static)
        try:
            text = read_schema_file(self.query_one("#schema-path", Input).value)
        except ValueError as exc:
            result.update(Text(str(exc), style="red"))
            return
        candidate = self.query_one("#candidate", TextArea)
        candidate.text = text
        candidate.focus()
        result.update("loaded; ctrl+t tests it")

    async def action_test(self) -> None:
        """Ask the registry whether the candidate is compatible with the latest version."""
        result = self.query_one("#compat-result", Static)
        candidate = self.query_one("#candidate", TextArea).text
        if not candidate.strip():
            result.update(Text("the candidate is empty", style="red"))
            return
        schema_type = str(self.query_one("#schema-type", Select).value)
        try:
            compatible, messages = await self.client.test_compatibility(
                self.subject, candidate, schema_type
            )
        except (ApiError, ServerUnreachableError, *SHAPE_ERRORS) as exc:
            result.update(Text(f"test failed: {exc}", style="red"))
            return
        result.update(verdict(compatible, messages))
