"""The TUI's REST client logs in with credentials from the environment (STREAMGOV_USER and
STREAMGOV_PASSWORD, or STREAMGOV_TOKEN) against a server with --auth; without them it is
refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from streamgov.access import ServerAccess
from streamgov.cli.tui import tui_credentials
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tui.client import StreamgovClient


def test_tui_client_logs_in_from_the_environment(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "c", name="tui")
    cluster.create_topic("visible", 1)
    cluster.create_topic("hidden", 1)
    setup = AccessControl(cluster).start()
    setup.add_user("viewer", "viewer-pw")
    token = setup.issue_token("viewer")
    setup.add(
        [
            Acl(
                ResourceType.TOPIC,
                "visible",
                PatternType.LITERAL,
                "User:viewer",
                "*",
                Operation.DESCRIBE,
                Permission.ALLOW,
            )
        ]
    )
    setup.close()
    app = create_app(cluster, ServerSettings(auth=True))
    try:
        with serve_in_thread(app) as url:

            async def topic_names(env: dict[str, str]) -> set[str]:
                access = ServerAccess.from_env(env=env)  # as `streamgov tui` reads it
                client = StreamgovClient(url, tui_credentials(access))
                try:
                    return {t["topic_name"] for t in await client.topics()}
                finally:
                    await client.close()

            basic = {"STREAMGOV_USER": "viewer", "STREAMGOV_PASSWORD": "viewer-pw"}
            assert "visible" in asyncio.run(topic_names(basic))
            assert "visible" in asyncio.run(topic_names({"STREAMGOV_TOKEN": token}))
            with pytest.raises(Exception, match=r"401|authentication"):
                asyncio.run(topic_names({}))
    finally:
        app.state.services.close()
        cluster.close()
