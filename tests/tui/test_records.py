"""The records screen: paging both ways, the end of a partition, follow mode, refresh, header
values as text and a partition that does not exist (Pilot against a real server)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from engine.embedded import EmbeddedCluster
from engine.types import Record
from tests.tui.test_app import SIZE, count_ticks, loaded, make_app, rows, select, until
from tui.app import StreamgovApp
from tui.dialogs.form import FormScreen
from tui.screens.records import RecordsScreen
from tui.screens.topics import TopicsScreen

pytestmark = pytest.mark.anyio


def offsets(app: StreamgovApp) -> list[int]:
    return [int(r[0]) for r in rows(app.screen)]


def notes(app: StreamgovApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def detail(app: StreamgovApp) -> str:
    return str(app.screen.query_one("#record-text", Static).render())


async def open_records(app: StreamgovApp, pilot: object, topic: str) -> None:
    await until(pilot, loaded(app, TopicsScreen))  # type: ignore[arg-type]
    await select(pilot, topic)  # type: ignore[arg-type]
    await pilot.press("b")  # type: ignore[attr-defined]
    await until(pilot, loaded(app, RecordsScreen))  # type: ignore[arg-type]


async def test_pages_forward_and_back_and_stops_at_both_ends(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    cluster.create_topic("many", 1)
    cluster.produce("many", [Record(value=b"v%d" % i) for i in range(150)])
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(app, pilot, "many")
        assert offsets(app) == list(range(100))
        await pilot.press("N")  # nothing before offset 0
        await until(pilot, lambda: any("Start of partition 0" in n for n in notes(app)))
        assert offsets(app) == list(range(100))
        await pilot.press("n")
        await until(pilot, lambda: offsets(app) == list(range(100, 150)))
        await pilot.press("n")  # past the end: says so and keeps the page
        await until(pilot, lambda: any("End of partition 0" in n for n in notes(app)))
        assert offsets(app) == list(range(100, 150))
        await pilot.press("N")
        await until(pilot, lambda: offsets(app) == list(range(100)))


async def test_refresh_and_follow_show_new_records(
    server_url: str, cluster: EmbeddedCluster
) -> None:
    app = make_app(server_url, refresh=0.2)
    ticks = count_ticks(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(app, pilot, "payments")
        assert offsets(app) == [0, 1, 2]
        cluster.produce("payments", [Record(value=b"late", key=b"p3")])
        seen = ticks()
        await until(pilot, lambda: ticks() >= seen + 2)
        assert offsets(app) == [0, 1, 2]  # a page the user reads holds still...
        await pilot.press("r")  # ...until refreshed
        await until(pilot, lambda: offsets(app) == [0, 1, 2, 3])

        await pilot.press("f")
        title = app.screen.query_one("#title-bar", Static)
        await until(pilot, lambda: "following the newest" in str(title.render()))
        cluster.produce("payments", [Record(value=b"new", key=b"p4")])
        await until(pilot, lambda: offsets(app)[-1] == 4)  # read again on the refresh tick
        screen = app.screen
        assert isinstance(screen, RecordsScreen)
        assert screen.table.cursor_row == len(offsets(app)) - 1  # on the newest record
        await pilot.press("f")
        assert "following" not in str(title.render())
        cluster.produce("payments", [Record(value=b"after", key=b"p5")])
        seen = ticks()
        await until(pilot, lambda: ticks() >= seen + 2)
        assert offsets(app)[-1] == 4


async def test_header_values_show_as_text(server_url: str, cluster: EmbeddedCluster) -> None:
    cluster.create_topic("with.headers", 1)
    cluster.produce(
        "with.headers",
        [Record(value=b"v", headers=(("source", b"batch"), ("raw", b"\xff\x00")))],
    )
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(app, pilot, "with.headers")
        await until(pilot, lambda: "header source" in detail(app))
        assert "header source: batch" in detail(app)
        assert "header raw: ff 00" in detail(app)
        assert "b'" not in detail(app)


async def test_a_partition_that_does_not_exist_is_refused_in_the_dialog(
    server_url: str,
) -> None:
    app = make_app(server_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_records(app, pilot, "orders")  # 3 partitions
        await pilot.press("p")
        assert isinstance(app.screen, FormScreen)
        field = app.screen.query_one("#field-partition", Input)
        field.value = "7"
        await pilot.press("enter")
        error = str(app.screen.query_one("#form-error", Static).render())
        assert "must be at most 2" in error
        await pilot.press("escape")
        assert isinstance(app.screen, RecordsScreen)
        assert offsets(app) == [0, 1, 2, 3]  # the page still works
        await pilot.press("n")
        await until(pilot, lambda: any("End of partition 0" in n for n in notes(app)))
