"""The terminal UI driven by Textual's Pilot against a real streamgov server (uvicorn thread)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from engine.embedded import EmbeddedCluster
from engine.types import TopicPartition
from streamgov.cli.tui import START_SCREENS
from streamgov.server import serve_in_thread
from tui.app import StreamgovApp
from tui.client import StreamgovClient
from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.form import FormScreen
from tui.dialogs.help import HelpScreen
from tui.screens import SCREENS
from tui.screens.base import DataScreen, TableScreen
from tui.screens.compatibility import CompatibilityScreen
from tui.screens.lag import LagScreen
from tui.screens.lag_detail import LagDetailScreen
from tui.screens.records import RecordsScreen
from tui.screens.schema_diff import DiffScreen
from tui.screens.schemas import SchemasScreen
from tui.screens.subject import SubjectScreen
from tui.screens.topic_detail import TopicDetailScreen
from tui.screens.topics import TopicsScreen

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


def make_app(url: str, **kw: object) -> StreamgovApp:
    return StreamgovApp(StreamgovClient(url), refresh_seconds=kw.pop("refresh", 60), **kw)  # type: ignore[arg-type]


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30) -> None:
    """Let the app work until `condition` holds (loads are asynchronous)."""
    waited = 0.0
    while not condition():
        if waited > timeout:
            raise AssertionError("condition not reached")
        await pilot.pause(0.05)
        waited += 0.05


async def until_listed(app: StreamgovApp, pilot: Pilot[None], kind: type) -> None:
    """Wait until a `kind` screen shows rows, asking the server again every half second: the
    data can reach the server after the screen's first load (the lag monitor lists a group
    from its next sample on), and a test's refresh interval is too long to wait for."""
    waited = 0.0
    while not loaded(app, kind)():
        if waited > 30:
            raise AssertionError(f"{kind.__name__} shows no rows")
        if isinstance(app.screen, kind) and round(waited * 20) % 10 == 0:
            app.screen.reload()
        await pilot.pause(0.05)
        waited += 0.05


def rows(screen: object, table_id: str = "main") -> list[list[str]]:
    assert isinstance(screen, DataScreen)
    table = screen.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def loaded(app: StreamgovApp, kind: type, table_id: str = "main") -> Callable[[], bool]:
    return lambda: isinstance(app.screen, kind) and bool(rows(app.screen, table_id))


def topic_names(app: StreamgovApp) -> list[str] | None:
    """The topics table's names, or None while another screen (a dialog) is on top."""
    if not isinstance(app.screen, TopicsScreen):
        return None
    return [row[0] for row in rows(app.screen)]


async def select(pilot: Pilot[None], key: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, TableScreen)
    screen.table.move_cursor(row=screen.table.get_row_index(key))
    await pilot.pause()


def count_ticks(app: StreamgovApp) -> Callable[[], int]:
    """Count the app's refresh ticks (call before the app runs): a test that checks something
    does not change waits for ticks, not for a fixed time."""
    calls = [0]
    tick = app.tick

    def counted() -> None:
        calls[0] += 1
        tick()

    app.tick = counted  # type: ignore[method-assign]
    return lambda: calls[0]


async def open_subject(app: StreamgovApp, pilot: Pilot[None]) -> None:
    """From the schemas screen, open the first subject's versions."""
    await until(pilot, loaded(app, SchemasScreen))
    await pilot.press("enter")
    await until(pilot, loaded(app, SubjectScreen))


async def open_lag_detail(app: StreamgovApp, pilot: Pilot[None]) -> None:
    """From the lag screen, open the first group's detail."""
    await until_listed(app, pilot, LagScreen)
    await pilot.press("enter")
    await until(pilot, loaded(app, LagDetailScreen))


def test_every_registered_screen_can_start_the_cli() -> None:
    assert set(START_SCREENS) == set(SCREENS)


async def test_topics_table_shows_counts_retention_and_cleanup(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        assert rows(app.screen) == [
            ["audit.log", "-", "2", "0", "0 B", "1d", "delete", "-"],
            ["orders", "-", "3", "12", "196 B", "7d", "delete", "-"],
            ["payments", "-", "1", "3", "47 B", "7d", "compact", "-"],
        ]
        await pilot.press("i")
        await until(pilot, lambda: any(r[0].startswith("_") for r in rows(app.screen)))


async def test_command_bar_completes_and_jumps(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("colon", "s", "c", "tab")
        assert app.screen.query_one(Input).value == "schemas"
        await pilot.press("enter")
        await until(pilot, loaded(app, SchemasScreen))
        assert rows(app.screen) == [
            ["orders-value", "2", "2", "AVRO", "BACKWARD"],
            ["payments-value", "1", "3", "JSON", "BACKWARD"],
        ]
        await pilot.press("colon", "n", "o", "p", "e", "enter")
        hint = str(app.screen.query_one("#command-hint", Static).render())
        assert "unknown command" in hint
        await pilot.press("escape")
        assert isinstance(app.screen, SchemasScreen)
        await pilot.press("colon", "l", "a", "g", "enter")
        await until(pilot, lambda: isinstance(app.screen, LagScreen))
        assert app.current_mode == "lag"
        assert len(app.screen_stack) == 1  # the mode's own stack: its top-level screen


async def test_top_level_screens_are_modes_each_back_at_its_list(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        assert app.current_mode == "topics"
        await select(pilot, "orders")
        await pilot.press("enter")
        await until(pilot, loaded(app, TopicDetailScreen))
        assert app.in_detail()
        await pilot.press("colon", *"schemas", "enter")
        await until(pilot, loaded(app, SchemasScreen))
        assert (app.current_mode, app.in_detail()) == ("schemas", False)
        await pilot.press("colon", *"topics", "enter")
        # Back on the topics list, not on the detail left open in that mode.
        await until(pilot, loaded(app, TopicsScreen))
        assert not app.in_detail()
        assert not app.screen.check_action("back", ())


def type_at_once(app: StreamgovApp, keys: str) -> None:
    """Queue keys faster than the app handles them, as a quick typist or a paste would."""
    names = {":": "colon", "/": "slash", "\r": "enter"}
    for char in keys:
        app.post_message(events.Key(names.get(char, char), char))


async def test_keys_typed_right_after_colon_and_slash_are_kept(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        type_at_once(app, "/pay")
        await until(pilot, lambda: [r[0] for r in rows(app.screen)] == ["payments"])
        await pilot.press("escape")
        type_at_once(app, ":lag\r")
        await until(pilot, lambda: isinstance(app.screen, LagScreen))


async def test_colon_and_slash_are_plain_characters_in_inputs(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("slash", "a", "colon", "slash")
        assert app.screen.query_one("#filter", Input).value == "a:/"
        assert isinstance(app.screen, TopicsScreen)
        await pilot.press("escape", "colon", "colon")
        assert app.screen.query_one("#command", Input).value == ":"


async def test_long_names_are_cut_so_every_column_fits_80_columns(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    long_name = "audit-log-of-the-payments-team-with-a-rather-long-name"
    cluster.create_topic(long_name)
    app = make_app(server_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        screen = app.screen
        assert isinstance(screen, TopicsScreen)
        shown = rows(screen)[0][0]
        assert shown.endswith("…") and long_name.startswith(shown[:-1])
        assert screen.table.virtual_size.width <= 80
        await pilot.press("slash", *"rather")  # the filter still sees the whole name
        assert [r[0] for r in rows(screen)] == [shown]
        await pilot.resize_terminal(160, 45)
        await until(pilot, lambda: rows(screen)[0][0] == long_name)


async def test_filter_help_and_back(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        # `esc` is offered (footer, help) only where it does something.
        assert not app.screen.check_action("back", ())
        await pilot.press("slash", "p", "a", "y")
        assert app.screen.check_action("back", ())
        assert [r[0] for r in rows(app.screen)] == ["payments"]
        await pilot.press("enter")
        assert isinstance(app.focused, DataTable)
        await pilot.press("escape")
        assert len(rows(app.screen)) == 3
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        listed = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {
            "Browse the records",
            "Create a topic",
            "Delete the topic (asks first)",
            "Filter the table",
            "Show or hide internal topics",
            "Command bar: jump to a screen",
            "Quit",
        } <= listed
        await pilot.press("escape")
        assert isinstance(app.screen, TopicsScreen)
        await select(pilot, "orders")
        await pilot.press("enter")
        await until(pilot, loaded(app, TopicDetailScreen))
        assert app.screen.check_action("back", ())
        assert rows(app.screen) == [
            ["0", "0", "4", "4", "64 B"],
            ["1", "0", "4", "4", "66 B"],
            ["2", "0", "4", "4", "66 B"],
        ]
        await until(pilot, lambda: bool(rows(app.screen, "groups")))
        assert rows(app.screen, "groups") == [["billing", "Empty", "3"]]
        assert ["cleanup.policy", "delete"] in rows(app.screen, "configs")
        app.screen.query_one("#groups", DataTable).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LagDetailScreen))
        await pilot.press("escape")
        assert isinstance(app.screen, TopicDetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TopicsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TopicsScreen)


async def test_create_alter_and_delete_topic_with_confirmation(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("c")
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"new.topic", "tab")
        partitions = app.screen.query_one("#field-partitions", Input)
        partitions.value = "x"
        await pilot.press("enter")
        assert "not a whole number" in str(app.screen.query_one("#form-error", Static).render())
        partitions.value = "4"
        app.screen.query_one("#field-retention", Input).value = "60000"
        app.screen.query_one("#field-retention", Input).focus()
        await pilot.press("enter")
        # the form closes once the server created the topic: a loaded machine takes a while
        await until(pilot, lambda: "new.topic" in (topic_names(app) or []))
        assert cluster.describe_topic("new.topic").config["retention.ms"] == "60000"
        assert len(cluster.describe_topic("new.topic").partitions) == 4

        await select(pilot, "new.topic")
        await pilot.press("e")
        await pilot.press(*"retention.ms", "tab", *"120000", "enter")
        await until(
            pilot, lambda: cluster.describe_topic("new.topic").config["retention.ms"] == "120000"
        )

        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert "new.topic" in cluster.list_topics()
        await pilot.press("ctrl+d", "y")
        await until(pilot, lambda: topic_names(app) == ["audit.log", "orders", "payments"])
        assert "new.topic" not in cluster.list_topics()


async def test_internal_topics_are_not_deleted_or_reconfigured(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    cluster.create_topic("_state_probe")  # a name no component creates
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("i")
        await until(pilot, lambda: "_state_probe" in [r[0] for r in rows(app.screen)])
        await select(pilot, "_state_probe")
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, TopicsScreen)  # no confirmation offered
        await pilot.press("e")
        assert isinstance(app.screen, TopicsScreen)
        notes = [str(n.message) for n in app._notifications]
        assert any("_state_probe is internal" in n for n in notes)
    assert "_state_probe" in cluster.list_topics(include_internal=True)


async def test_title_names_the_server_or_the_local_cluster(server_url: str) -> None:
    for where, shown in ((None, server_url), ("cluster default", "cluster default")):
        app = make_app(server_url, where=where)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, loaded(app, TopicsScreen))
            title = str(app.screen.query_one("#title-bar", Static).render())
            assert shown in title


async def test_readonly_disables_changes(server_url: str, cluster: EmbeddedCluster) -> None:
    app = make_app(server_url, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("ctrl+d", "c", "e")
        assert isinstance(app.screen, TopicsScreen)
        assert "orders" in cluster.list_topics()
        title = str(app.screen.query_one("#title-bar", Static).render())
        assert "read-only" in title


async def test_browse_records_decodes_avro_and_pages(server_url: str) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await select(pilot, "orders")
        await pilot.press("b")
        await until(pilot, loaded(app, RecordsScreen))
        table = rows(app.screen)
        assert [r[0] for r in table] == ["0", "1", "2", "3"]
        assert table[0][2:] == ["order-0", '{"id": 0, "note": "n0"}']
        assert table[0][1] == "2026-01-01 00:00:00.000"
        detail = str(app.screen.query_one("#record-text", Static).render())
        assert "avro schema 2" in detail
        await pilot.press("p")
        app.screen.query_one("#field-partition", Input).value = "1"
        await pilot.press("enter")
        await until(pilot, lambda: rows(app.screen)[0][2] == "order-1")
        await pilot.press("o")
        await pilot.press("2", "enter")
        await until(pilot, lambda: [r[0] for r in rows(app.screen)] == ["2", "3"])
        await pilot.press("t")
        await pilot.press(*"2026-01-01T00:00:10Z", "enter")
        await until(pilot, lambda: [r[2] for r in rows(app.screen)] == ["order-10"])
        await pilot.press("g")
        await until(pilot, lambda: len(rows(app.screen)) == 4)


async def test_schema_versions_diff_compatibility_and_level(server_url: str) -> None:
    app = make_app(server_url, start="schemas")
    async with app.run_test(size=SIZE) as pilot:
        await open_subject(app, pilot)
        assert [r[0].strip() for r in rows(app.screen)] == ["1", "2"]
        await pilot.press("d")
        assert isinstance(app.screen, DiffScreen)
        diff = rows(app.screen, "diff")
        assert any(r[0] == "+" and '"note"' in r[2] for r in diff)
        await pilot.press("escape", "t")
        assert isinstance(app.screen, CompatibilityScreen)
        area = app.screen.query_one("#candidate")
        await until(pilot, lambda: '"note"' in area.text)  # type: ignore[attr-defined]
        await pilot.press("ctrl+t")
        result = app.screen.query_one("#compat-result", Static)
        await until(pilot, lambda: "compatible" in str(result.render()))
        assert "NOT" not in str(result.render())
        area.text = area.text.replace('"long"', '"string"')  # type: ignore[attr-defined]
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "NOT compatible" in str(result.render()))
        await pilot.press("escape")
        assert isinstance(app.screen, SubjectScreen)
        await pilot.press("l")
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-level").value = "FULL"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(
            pilot, lambda: "(FULL)" in str(app.screen.query_one("#title-bar", Static).render())
        )


async def test_lag_screen_and_offset_reset(server_url: str, cluster: EmbeddedCluster) -> None:
    app = make_app(server_url, start="lag", refresh=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, LagScreen))
        [billing] = rows(app.screen)
        assert billing[:4] == ["billing", "Empty", "0", "3"]
        # No members and lag 3: not judged yet (with the window's fill) or STOP, never OK.
        assert billing[5].split()[0] in {"PENDING", "ERR"}, billing[5]
        await pilot.press("enter")
        await until(pilot, loaded(app, LagDetailScreen))
        assert [r[:5] for r in rows(app.screen)] == [
            ["orders", "0", "1", "4", "3"],
            ["orders", "1", "4", "4", "0"],
            ["orders", "2", "4", "4", "0"],
        ]
        await pilot.press("r")
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#field-position").value = "EARLIEST"  # type: ignore[attr-defined]
        app.screen.query_one("#field-value").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(
            pilot,
            lambda: cluster.committed_offsets("billing")[TopicPartition("orders", 1)].offset == 0,
        )


async def test_reset_is_refused_while_the_group_has_members(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    consumer = cluster.consumer("billing", auto_offset_reset="earliest")
    consumer.subscribe(["orders"])
    for _ in range(100):  # a loaded machine may need several polls to finish the join
        consumer.poll(0.2)
        if consumer.assignment():
            break
    assert consumer.assignment(), "the consumer never joined its group"
    try:
        app = make_app(server_url, start="lag")
        async with app.run_test(size=SIZE) as pilot:
            await open_lag_detail(app, pilot)
            await pilot.press("r")
            app.screen.query_one("#field-value").focus()
            await pilot.press("enter")
            refused = lambda: any(  # noqa: E731
                "stop its consumers" in n.message for n in app._notifications
            )
            # Refused when the plan is asked for, or else when it is applied.
            await until(pilot, lambda: refused() or isinstance(app.screen, ConfirmScreen))
            if not refused():
                await pilot.press("y")
                await until(pilot, refused)
            assert cluster.committed_offsets("billing")[TopicPartition("orders", 0)].offset == 1
    finally:
        consumer.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_server_shows_a_banner_and_recovers(app: object) -> None:
    port = _free_port()
    tui = make_app(f"http://127.0.0.1:{port}", refresh=0.2)
    async with tui.run_test(size=SIZE) as pilot:
        banner = lambda: tui.screen.query_one("#banner", Static)  # noqa: E731
        await until(pilot, lambda: banner().has_class("visible"))
        assert "cannot reach" in str(banner().render())
        with serve_in_thread(app, port=port):  # type: ignore[arg-type]
            await until(pilot, loaded(tui, TopicsScreen))
            assert not banner().has_class("visible")


async def test_refresh_pauses_while_typing(server_url: str, cluster: EmbeddedCluster) -> None:
    app = make_app(server_url, refresh=0.1)
    ticks = count_ticks(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(app, TopicsScreen))
        await pilot.press("slash")
        assert app.is_typing()
        cluster.create_topic("appears.later")
        seen = ticks()
        await until(pilot, lambda: ticks() >= seen + 3)  # refresh ticks came and went
        assert "appears.later" not in [r[0] for r in rows(app.screen)]
        await pilot.press("enter")
        await until(pilot, lambda: "appears.later" in [r[0] for r in rows(app.screen)])


async def test_an_answer_of_another_shape_is_a_banner_not_a_crash() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/clusters":
            return httpx.Response(200, json={"data": [{"cluster_id": "c"}]})
        return httpx.Response(200, json={"data": [{"unexpected": True}]})

    client = StreamgovClient("http://old.server", transport=httpx.MockTransport(answer))
    app = StreamgovApp(client, refresh_seconds=60)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.screen.query_one("#banner", Static)
        await until(pilot, lambda: banner.has_class("visible"))
        assert "unexpected answer" in str(banner.render())
        assert app.is_running
