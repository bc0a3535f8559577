"""Dialogs and panes a new user trips over: focus in the level and compatibility dialogs, a
refused topic create that keeps the form, `?` listing every key, the registry's reasons laid
out as `streamgov check` does, the reset plan, and the topic detail's panes at 110+ columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import Button, DataTable, Input, Select, Static, TextArea

from engine.embedded import EmbeddedCluster
from engine.types import TopicPartition
from tests.tui.test_app import (
    SIZE,
    loaded,
    make_app,
    open_lag_detail,
    open_subject,
    rows,
    select,
    until,
)
from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.form import FormScreen
from tui.dialogs.help import HelpScreen
from tui.screens.compatibility import CompatibilityScreen
from tui.screens.records import RecordsScreen
from tui.screens.topic_detail import TopicDetailScreen
from tui.screens.topics import TopicsScreen

pytestmark = pytest.mark.anyio


async def test_level_dialog_is_driven_by_enter_alone(server_url: str) -> None:
    app = make_app(server_url, start="schemas")
    async with app.run_test(size=SIZE) as pilot:
        await open_subject(app, pilot)
        await pilot.press("l")
        assert isinstance(app.screen, FormScreen)
        assert isinstance(app.focused, Select)  # the level list, not the button
        # enter opens the list, down moves to the next level, enter chooses it (focus moves
        # to the button), enter submits.
        await pilot.press("enter", "down", "enter")
        await until(pilot, lambda: isinstance(app.focused, Button))
        await pilot.press("enter")
        title = lambda: str(app.screen.query_one("#title-bar", Static).render())  # noqa: E731
        await until(pilot, lambda: "(BACKWARD_TRANSITIVE)" in title())


async def test_compatibility_test_takes_a_path_first(server_url: str, tmp_path: Path) -> None:
    candidate = tmp_path / "order.avsc"
    order = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}
    candidate.write_text(json.dumps(order))
    app = make_app(server_url, start="schemas")
    async with app.run_test(size=SIZE) as pilot:
        await open_subject(app, pilot)
        await pilot.press("t")
        assert isinstance(app.screen, CompatibilityScreen)
        area = app.screen.query_one("#candidate", TextArea)
        await until(pilot, lambda: '"note"' in area.text)
        assert isinstance(app.focused, Input)
        result = app.screen.query_one("#compat-result", Static)
        await pilot.press("enter")  # an empty path
        assert "type the path of a schema file first" in str(result.render())
        assert " is not a file" not in str(result.render())
        await pilot.press(*str(candidate), "enter")
        assert '"note"' not in area.text and '"Order"' in area.text  # typed into the path
        assert app.focused is area
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "NOT compatible" in str(result.render()))
        shown = str(result.render())
        # Each reason laid out as `streamgov check` shows a finding, never the raw braces.
        assert "{errorType" not in shown
        assert "against: version 2 (backward check)" in shown
        assert "problem:" in shown


async def test_a_refused_topic_create_keeps_what_was_typed(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("c", *"orders", "tab", "ctrl+a")  # an existing name
        app.screen.query_one("#field-partitions", Input).value = "6"
        app.screen.query_one("#field-name", Input).focus()
        await pilot.press("enter")
        error = lambda: str(app.screen.query_one("#form-error", Static).render())  # noqa: E731
        await until(pilot, lambda: isinstance(app.screen, FormScreen) and "failed" in error())
        assert "already exists" in error()
        assert app.screen.query_one("#field-name", Input).value == "orders"
        assert app.screen.query_one("#field-partitions", Input).value == "6"
        app.screen.query_one("#field-name", Input).value = "orders.v2"
        await pilot.press("enter")
        await until(pilot, lambda: "orders.v2" in [r[0] for r in rows(app.screen)])


def listed_keys(app: object) -> set[str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HelpScreen)
    table = screen.query_one(DataTable)
    return {str(table.get_row_at(i)[0]) for i in range(table.row_count)}


def own_keys(screen: object) -> set[str]:
    """How `?` shows the key of every binding a screen class declares."""
    keys = set()
    for binding in type(screen).BINDINGS:
        assert isinstance(binding, Binding)
        keys.add(binding.key_display or App.get_key_display(App(), binding))
    return keys


async def test_help_lists_every_key_of_each_screen(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await select(pilot, "orders")
        for opened, kind in ((None, TopicsScreen), ("enter", TopicDetailScreen)):
            if opened:
                await pilot.press(opened)
            await until(pilot, loaded(app, kind))
            screen = app.screen
            await pilot.press("question_mark")
            shown = listed_keys(app)
            # `esc` is listed where it goes back; on a top-level screen it does nothing.
            expected = own_keys(screen) - ({"esc"} if kind is TopicsScreen else set())
            assert expected <= shown, expected - shown
            await pilot.press("escape")
        await pilot.press("escape", "b")
        await until(pilot, loaded(app, RecordsScreen))
        records = app.screen
        await pilot.press("question_mark")
        assert own_keys(records) <= listed_keys(app)
        assert {"n", "N", "f", "r"} <= listed_keys(app)


async def test_reset_confirmation_shows_the_plan(server_url: str, cluster: EmbeddedCluster) -> None:
    app = make_app(server_url, start="lag")
    async with app.run_test(size=SIZE) as pilot:
        await open_lag_detail(app, pilot)
        await pilot.press("r")
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-position", Select).value = "EARLIEST"
        app.screen.query_one("#field-value", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        plan = str(app.screen.query_one(".dialog-detail", Static).render())
        lines = plan.splitlines()
        assert lines[0].split() == ["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]
        assert [line.split() for line in lines[1:4]] == [
            ["orders", "0", "1", "0"],
            ["orders", "1", "4", "0"],
            ["orders", "2", "4", "0"],
        ]
        # Shown, not applied: the dry run changed nothing.
        assert cluster.committed_offsets("billing")[TopicPartition("orders", 1)].offset == 4
        await pilot.press("n")
        assert cluster.committed_offsets("billing")[TopicPartition("orders", 1)].offset == 4


async def test_topic_detail_panes_cut_with_an_ellipsis_at_120_columns(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await select(pilot, "audit.log")
        await pilot.press("enter")
        await until(pilot, loaded(app, TopicDetailScreen))
        # Filled once laid out (the pane's width is known then): long values end in `…`.
        await until(pilot, lambda: any(r[1].endswith("…") for r in rows(app.screen, "configs")))
        screen = app.screen
        configs = screen.query_one("#configs", DataTable)
        width = sum(column.get_render_width(configs) for column in configs.columns.values())
        assert width <= configs.size.width  # everything in view: nothing cut silently
        values = dict((r[0], r[1]) for r in rows(screen, "configs"))
        assert values["retention.ms"] == "86400000"  # short values whole
        long_values = [v for v in values.values() if v.endswith("…")]
        assert long_values, values  # long ones end in an ellipsis
        main = screen.query_one("#main", DataTable)
        assert [str(c.label) for c in main.columns.values()][-1] == "Size"
        width = sum(column.get_render_width(main) for column in main.columns.values())
        assert width <= main.size.width
