"""The terminal UI against a real server with `--auth`: it logs in (credentials from the
environment, or a prompt when the server answers 401), offers only the actions the user may
take (a key of a refused action says why), and its `:audit` screen shows a denial that just
happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from acl.model import Operation
from engine.embedded import EmbeddedCluster
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.tui.conftest import add_users
from tests.tui.test_app import loaded, rows, until, until_listed
from tui.app import StreamgovApp
from tui.client import Credentials, StreamgovClient
from tui.dialogs.command_bar import CommandScreen
from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.form import FormScreen
from tui.dialogs.help import HelpScreen
from tui.screens.audit import AuditScreen
from tui.screens.topics import TopicsScreen

pytestmark = pytest.mark.anyio
SIZE = (110, 30)
VIEWER = Credentials(user="viewer", password="viewer-pw")
ADMIN = Credentials(user="admin", password="admin-pw")


@pytest.fixture()
def secured_url(tmp_path: Path) -> Iterator[str]:
    """A server with `--auth` over two topics: `viewer` may only DESCRIBE topics, `admin` is a
    super user."""
    cluster = EmbeddedCluster(tmp_path / "c", name="secured", maintenance_interval_s=None)
    cluster.create_topic("orders", 1)
    cluster.create_topic("payments", 1)
    add_users(cluster, Operation.DESCRIBE)
    app = create_app(cluster, ServerSettings(auth=True, super_users=("User:admin",)))
    try:
        with serve_in_thread(app) as url:
            yield url
    finally:
        app.state.services.close()
        cluster.close()


def make_app(url: str, credentials: Credentials | None, **kw: object) -> StreamgovApp:
    client = StreamgovClient(url, credentials)
    return StreamgovApp(client, refresh_seconds=60, **kw)  # type: ignore[arg-type]


def notes(app: StreamgovApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def permissions_known(app: StreamgovApp, pilot: Pilot[None]) -> None:
    await until(pilot, loaded(app, TopicsScreen))
    await until(pilot, lambda: app.permissions.principal is not None)
    await pilot.pause()


async def test_a_user_without_write_is_not_offered_changes(secured_url: str) -> None:
    app = make_app(secured_url, VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await permissions_known(app, pilot)
        screen = app.screen
        assert isinstance(screen, TopicsScreen)
        assert [r[0] for r in rows(screen)] == ["orders", "payments"]
        for action in ("create", "alter", "delete"):
            assert not screen.check_action(action, ())
        shown = {b.binding.action for b in screen.active_bindings.values()}
        assert "browse" in shown
        assert not {"create", "alter", "delete"} & shown
        await pilot.press("ctrl+d")
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen | FormScreen)
        said = notes(app)
        assert any("User:viewer may not DELETE TOPIC orders" in n for n in said), said
        assert any("User:viewer may not CREATE CLUSTER kafka-cluster" in n for n in said), said
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_keys = dict(app.screen._keys)  # type: ignore[attr-defined]
        assert "(disabled: User:viewer may not DELETE TOPIC orders)" in help_keys["^d"]
        assert "disabled" not in help_keys["b"]
        await pilot.press("escape", "colon")
        await until(pilot, lambda: isinstance(app.screen, CommandScreen))
        assert "audit" not in app.screen._names  # type: ignore[attr-defined]


async def test_a_super_user_is_offered_every_change(secured_url: str) -> None:
    app = make_app(secured_url, ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await permissions_known(app, pilot)
        screen = app.screen
        assert isinstance(screen, TopicsScreen)
        assert app.permissions.principal == "User:admin"
        for action in ("create", "alter", "delete"):
            assert screen.check_action(action, ())
        assert "audit" in app.screen_names()
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))


async def test_a_401_asks_for_a_login(secured_url: str) -> None:
    app = make_app(secured_url, None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#field-password", Input).password
        form.query_one("#field-user", Input).value = "viewer"
        password = form.query_one("#field-password", Input)
        password.value = "wrong"
        password.focus()
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "wrong user or password" in str(form.query_one("#form-error", Static).render()),
        )
        assert app.screen is form
        password.value = "viewer-pw"
        await pilot.press("enter")
        await until(pilot, loaded(app, TopicsScreen))
        assert [r[0] for r in rows(app.screen)] == ["orders", "payments"]
        # The app now acts as the user who logged in (the "logged in as" notification is
        # not asserted: it expires after a few seconds, which a loaded machine can exceed).
        await until(pilot, lambda: app.permissions.principal == "User:viewer")


async def test_the_audit_screen_shows_a_denial_that_just_happened(secured_url: str) -> None:
    refused = httpx.delete(
        f"{secured_url}/v3/clusters/secured/topics/orders", auth=("viewer", "viewer-pw")
    )
    assert refused.status_code == 403
    app = make_app(secured_url, ADMIN, start="audit")
    async with app.run_test(size=SIZE) as pilot:
        await until_listed(app, pilot, AuditScreen)
        await pilot.press("d")  # denials only

        def denial_listed() -> bool:
            return any(
                r[1] == "User:viewer" and r[2] == "DENIED" and r[4] == "TOPIC:orders"
                for r in rows(app.screen)
            )

        await until(pilot, denial_listed)
        assert all(r[2] == "DENIED" for r in rows(app.screen))
        assert "result=denied" in app.screen.title_text()
