"""The `:catalog` screen and a stream's detail, driven by the Pilot against a real server."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from textual.widgets import Input, Static

from catalog.service import Catalog
from tests.tui.test_app import SIZE, loaded, make_app, rows, select, until
from tui.screens.catalog import CatalogScreen, StreamDetailScreen
from tui.screens.topics import TopicsScreen

pytestmark = pytest.mark.anyio


def describe_catalog(app: FastAPI) -> None:
    catalog: Catalog = app.state.catalog
    catalog.tag(
        "orders",
        owner="checkout",
        namespace="sales",
        add_tags=["pii"],
        field_tags={"note": ["pii"]},
        description="placed orders",
    )
    catalog.tag("payments", owner="billing", add_tags=["financial"])
    catalog.put_service("checkout", principals=["User:checkout"])
    catalog.put_service("billing", inputs=["orders"])
    catalog.deprecate("payments", replacement="orders", sunset="2030-01-01")
    catalog.record_produce("orders", "User:mallory", "rogue")


async def test_streams_with_owner_tags_lifecycle_and_a_ranked_search(
    app: FastAPI, server_url: str
) -> None:
    describe_catalog(app)
    tui = make_app(server_url, start="catalog")
    async with tui.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(tui, CatalogScreen))
        assert rows(tui.screen) == [
            ["orders", "checkout", "sales", "pii", "active"],
            ["payments", "billing", "-", "financial", "deprecated"],
        ]
        await pilot.press("slash", *"fin")
        await until(pilot, lambda: [r[0] for r in rows(tui.screen)] == ["payments"])
        field = tui.screen.query_one("#filter", Input)
        field.value = "note"  # a field name: found through the schema-field index
        await until(pilot, lambda: [r[0] for r in rows(tui.screen)] == ["orders"])


async def test_the_detail_shows_fields_consumers_and_a_single_writer_violation(
    app: FastAPI, server_url: str
) -> None:
    describe_catalog(app)
    tui = make_app(server_url, start="catalog")
    async with tui.run_test(size=(120, 40)) as pilot:
        await until(pilot, loaded(tui, CatalogScreen))
        await select(pilot, "orders")
        await pilot.press("enter")
        await until(pilot, loaded(tui, StreamDetailScreen, "stream-fields"))
        screen = tui.screen
        assert rows(screen, "stream-fields") == [
            ["value", "id", "-"],
            ["value", "note", "pii"],
        ]
        assert rows(screen, "stream-consumers")[0][:5] == [
            "billing",
            "billing",
            "yes",
            "yes",
            "idle",
        ]
        assert rows(screen, "stream-producers") == [["User:mallory", "rogue", "NOT OWNER"]]
        overview = str(screen.query_one("#stream-overview", Static).render())
        assert (
            "✖ User:mallory (client rogue) wrote to orders, "
            "but only its owner checkout may write it" in overview
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(tui.screen, CatalogScreen))


async def test_the_topics_screen_shows_owner_and_a_pii_marker(
    app: FastAPI, server_url: str
) -> None:
    describe_catalog(app)
    tui = make_app(server_url)
    async with tui.run_test(size=(120, 30)) as pilot:
        await until(pilot, loaded(tui, TopicsScreen))
        await until(pilot, lambda: rows(tui.screen)[1][1] == "checkout")
        assert [r[:2] for r in rows(tui.screen)] == [
            ["audit.log", "-"],
            ["orders PII", "checkout"],
            ["payments", "billing"],
        ]
