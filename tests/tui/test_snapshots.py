"""SVG snapshots of every screen at 80x24 and at a larger size (pytest-textual-snapshot).

The UI talks to the real application in-process (httpx's ASGI transport, so no port number
appears on screen) over a temporary cluster with fixed data. The lag monitor's figures depend
on the wall clock, so the lag screens read fixed `/lag` answers instead, built from and
validated by the monitor's own response models so they cannot drift from the real contract.
Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from acl.model import Operation
from engine.embedded import EmbeddedCluster
from lagmonitor.schemas import GroupDetail, GroupList
from streamgov.server import ServerSettings, create_app
from tests.tui.conftest import add_users, populate
from tui.app import StreamgovApp
from tui.client import Credentials, StreamgovClient
from tui.screens.base import TableScreen

SMALL = (80, 24)
LARGE = (140, 40)
SIZES = [pytest.param(SMALL, id="80x24"), pytest.param(LARGE, id="140x40")]
NOW = 1_767_225_600.0


def _history(lags: list[int]) -> list[dict[str, Any]]:
    return [{"at": NOW - 10 * (len(lags) - i), "lag": lag} for i, lag in enumerate(lags)]


def _recommendation(replicas: int, current: int, action: str, reason: str) -> dict[str, Any]:
    return {
        "at": NOW,
        "replicas": replicas,
        "current": current,
        "action": action,
        "reason": reason,
        "mode": "rate",
    }


def _group(name: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "group": name,
        "state": "Stable",
        "members": 2,
        "topics": ["orders"],
        "partition_count": 3,
        "total_lag": 0,
        "max_lag": 0,
        "status": "OK",
        "status_reason": "all partitions OK",
        "completeness": 1.0,
        "sampled_at": NOW,
        "recommended_replicas": 2,
        "recommendation_reason": "hold: demand within tolerance",
        "recommendation": _recommendation(2, 2, "hold", "hold: demand within tolerance"),
    }
    base.update(fields)
    return base


BILLING = _group(
    "billing",
    total_lag=1250,
    max_lag=900,
    max_lag_topic="orders",
    max_lag_partition=0,
    time_lag_seconds=42.5,
    status="WARN",
    status_reason="orders[0]: lag grew across the window (120 -> 900)",
    production_rate=180.0,
    consumption_rate=95.5,
    lag_history=_history([120, 200, 260, 400, 520, 610, 800, 990, 1100, 1250]),
    recommended_replicas=4,
    recommendation_reason="scale up: demand 3.6 replicas above 2 x 1.1 for 3 samples",
    recommendation=_recommendation(4, 2, "scale_up", "demand 3.6 replicas"),
)
GROUPS = GroupList.model_validate(
    {
        "interval_seconds": 10.0,
        "sampled_at": NOW,
        "groups": [
            BILLING,
            _group("audit", members=1, recommended_replicas=1, lag_history=_history([0, 0, 0])),
            _group(
                "fraud-check",
                state="Empty",
                members=0,
                total_lag=40,
                max_lag=40,
                time_lag_seconds=9000.0,
                time_lag_is_lower_bound=True,
                status="ERR",
                status_reason="orders[1]: STOP: no commit for 15m",
                lag_history=_history([40, 40, 40, 40]),
                recommended_replicas=1,
                recommendation_reason="scale up from zero: lag 40 above activation 0",
            ),
            _group(
                "search-indexer",
                members=1,
                total_lag=75,
                max_lag=75,
                time_lag_seconds=3.0,
                status="PENDING",
                status_reason="orders[2] PENDING: lag 75; window 2/10 samples, not judged yet",
                completeness=0.0,
                lag_history=_history([80, 75]),
                recommended_replicas=1,
            ),
        ],
    }
).model_dump(mode="json")
BILLING_DETAIL = GroupDetail.model_validate(
    {
        **BILLING,
        "partitions": [
            {
                "topic": "orders",
                "partition": p,
                "committed": committed,
                "end_offset": end,
                "earliest_offset": 0,
                "lag": end - committed,
                "time_lag_seconds": seconds,
                "status": status,
                "reason": "",
                "owner": f"billing-{p % 2 + 1}",
                "completeness": 1.0,
            }
            for p, committed, end, seconds, status in (
                (0, 3100, 4000, 42.5, "WARN"),
                (1, 5000, 5300, 12.0, "OK"),
                (2, 2950, 3000, 1.5, "OK"),
            )
        ],
    }
).model_dump(mode="json")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One populated application for every snapshot (they only read)."""
    path: Path = tmp_path_factory.mktemp("snapshots") / "cluster"
    with EmbeddedCluster(path, name="local", maintenance_interval_s=None) as cluster:
        application = create_app(
            cluster, ServerSettings(lag_interval_seconds=3600, allowed_hosts=("streamgov.local",))
        )
        populate(cluster, application)
        yield application
        application.state.services.close()


@pytest.fixture(scope="module")
def secured_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The same data behind `--auth`, where `viewer` may only DESCRIBE topics and their
    configs."""
    path: Path = tmp_path_factory.mktemp("secured-snapshots") / "cluster"
    settings = ServerSettings(lag_interval_seconds=3600, allowed_hosts=("streamgov.local",))
    with EmbeddedCluster(path, name="local", maintenance_interval_s=None) as cluster:
        filling = create_app(cluster, settings)
        populate(cluster, filling)
        filling.state.services.close()
        add_users(cluster, Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS)
        application = create_app(cluster, dataclasses.replace(settings, auth=True))
        yield application
        application.state.services.close()


class FixedLag(httpx.AsyncBaseTransport):
    """Answers `/lag/...` with fixed bodies and sends everything else to the real app."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.bodies = {"/lag/groups": GROUPS, "/lag/groups/billing": BILLING_DETAIL}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = self.bodies.get(request.url.path)
        if body is not None:
            return httpx.Response(200, json=body)
        return await self.inner.handle_async_request(request)


def make_app(app: FastAPI, start: str = "topics", readonly: bool = False) -> StreamgovApp:
    client = StreamgovClient("http://streamgov.local", transport=FixedLag(app))
    return StreamgovApp(client, refresh_seconds=3600, readonly=readonly, start=start)


def _busy(app: StreamgovApp) -> bool:
    """Whether the screen is still loading or laying out: a worker runs, the main table is
    empty, or a table has rows whose column widths it has not measured yet (it does that
    when idle; a snapshot taken before would show header-wide columns)."""
    screen = app.screen
    if any(w.is_running for w in app.workers):
        return True
    if isinstance(screen, TableScreen) and screen.table.row_count == 0:
        return True
    return any(table._require_update_dimensions for table in screen.query(DataTable))


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the screen's loads are done and laid out (see `_busy`)."""
    app = pilot.app
    assert isinstance(app, StreamgovApp)
    for _ in range(500):
        await pilot.pause(0.02)
        if not _busy(app):
            break
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]  # a steady cursor
    await pilot.pause(0.1)
    await pilot.wait_for_scheduled_animations()


def steps(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press keys one at a time, letting each screen load before the next key."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_topics(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app), terminal_size=size, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_topic_detail(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app), terminal_size=size, run_before=steps("down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_records(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app), terminal_size=size, run_before=steps("down", "b", "down"))


def test_create_topic_dialog(snap_compare: Any, app: FastAPI) -> None:
    assert snap_compare(make_app(app), terminal_size=SMALL, run_before=steps("c"))


def test_delete_confirmation(snap_compare: Any, app: FastAPI) -> None:
    assert snap_compare(make_app(app), terminal_size=SMALL, run_before=steps("down", "ctrl+d"))


def test_help(snap_compare: Any, app: FastAPI) -> None:
    assert snap_compare(make_app(app), terminal_size=SMALL, run_before=steps("question_mark"))


def test_command_bar(snap_compare: Any, app: FastAPI) -> None:
    assert snap_compare(make_app(app), terminal_size=SMALL, run_before=steps("colon", "s"))


def test_topics_without_write(snap_compare: Any, secured_app: FastAPI) -> None:
    """A user who may only look is offered no create, config or delete."""
    client = StreamgovClient(
        "http://streamgov.local",
        Credentials(user="viewer", password="viewer-pw"),
        transport=httpx.ASGITransport(app=secured_app),
    )
    tui = StreamgovApp(client, refresh_seconds=3600)
    assert snap_compare(tui, terminal_size=SMALL, run_before=steps("down"))


def test_readonly(snap_compare: Any, app: FastAPI) -> None:
    assert snap_compare(make_app(app, readonly=True), terminal_size=SMALL, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_schemas(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app, "schemas"), terminal_size=size, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_subject_versions(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app, "schemas"), terminal_size=size, run_before=steps("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_schema_diff(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(
        make_app(app, "schemas"), terminal_size=size, run_before=steps("enter", "d")
    )


def test_compatibility_result(snap_compare: Any, app: FastAPI) -> None:
    async def breaking_change(pilot: Pilot[None]) -> None:
        await steps("enter", "t")(pilot)
        area = pilot.app.screen.query_one("#candidate")
        area.text = area.text.replace('"long"', '"string"')  # type: ignore[attr-defined]
        area.blur()
        await pilot.press("ctrl+t")
        result = pilot.app.screen.query_one("#compat-result", Static)
        for _ in range(200):
            if "compatible" in str(result.render()):
                break
            await pilot.pause(0.02)

    assert snap_compare(make_app(app, "schemas"), terminal_size=SMALL, run_before=breaking_change)


@pytest.mark.parametrize("size", SIZES)
def test_lag(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app, "lag"), terminal_size=size, run_before=steps())


@pytest.mark.parametrize("size", SIZES)
def test_lag_detail(snap_compare: Any, app: FastAPI, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(app, "lag"), terminal_size=size, run_before=steps("down", "enter"))
