"""The `:replication` screen against a real server running a flow between embedded clusters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.types import Record
from replicator.config import FlowSpec
from replicator.flow import Flow
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.tui.test_app import SIZE, loaded, make_app, rows, until
from tui.screens.replication import ReplicationScreen

pytestmark = pytest.mark.anyio


@pytest.fixture()
def replicating_server(tmp_path: Path) -> Iterator[str]:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    east.create_topic("orders", 2)
    east.produce("orders", [Record(b"v", partition=i % 2) for i in range(10)])
    east.close()
    spec = FlowSpec(Flow("east", "west", topics="orders"), "east", "west")
    flows = (
        (
            spec,
            lambda: EmbeddedCluster(tmp_path / "east", name="east"),
            lambda: EmbeddedCluster(tmp_path / "west", name="west"),
        ),
    )
    home = EmbeddedCluster(tmp_path / "home", name="home")
    app = create_app(home, ServerSettings(replication=flows))
    with serve_in_thread(app) as url:
        yield url
    home.close()


async def test_flows_and_remote_topics_with_lag_and_exactness(replicating_server: str) -> None:
    tui = make_app(replicating_server, start="replication", refresh=0.2)
    async with tui.run_test(size=SIZE) as pilot:
        await until(pilot, loaded(tui, ReplicationScreen))
        await until(
            pilot,
            lambda: (
                rows(tui.screen)
                == [["east->west", "running", "east.orders", "2", "0", "0.0s", "yes"]]
            ),
        )
