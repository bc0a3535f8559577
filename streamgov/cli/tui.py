"""`streamgov tui`: the terminal UI, on the local embedded cluster or a running server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.serveroptions import server_access
from streamgov.config import streamgov_home

if TYPE_CHECKING:
    from streamgov.access import ServerAccess
    from tui.client import Credentials

#: Screens `--screen` accepts (kept in step with tui.screens.SCREENS by a test).
START_SCREENS = ("topics", "schemas", "lag", "catalog", "replication", "audit")

#: Where `streamgov up` serves by default: without `--url`, a server answering here is used
#: (its lag monitor has history), rather than starting one in-process.
DEFAULT_URL = "http://127.0.0.1:8081"


def _log_to_file() -> None:
    """Send the in-process server's log lines to a file: the terminal belongs to the UI."""
    directory = streamgov_home() / "logs"
    directory.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(directory / "tui-server.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per UI request is noise


def tui_credentials(access: ServerAccess) -> Credentials:
    """The TUI's credentials from the access every command reads from the environment."""
    from tui.client import Credentials

    return Credentials(user=access.user, password=access.password, token=access.token)


@click.command("tui")
@click.option(
    "--url",
    envvar="STREAMGOV_URL",
    default=None,
    metavar="URL",
    help="A running streamgov server (env STREAMGOV_URL; credentials from STREAMGOV_TOKEN or "
    "STREAMGOV_USER/STREAMGOV_PASSWORD; https trusts STREAMGOV_TLS_CA and presents "
    "STREAMGOV_TLS_CERT/STREAMGOV_TLS_KEY). Default: the server at http://127.0.0.1:8081 when one "
    "answers there and no --cluster/--bootstrap is given, else serve the cluster in-process.",
)
@click.option(
    "--refresh",
    "refresh_seconds",
    type=click.FloatRange(0.2, 3600),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="How often the current screen reloads (paused while typing).",
)
@click.option("--readonly", is_flag=True, help="Disable every action that changes something.")
@click.option(
    "--screen",
    type=click.Choice(START_SCREENS),
    default="topics",
    show_default=True,
    help="The screen to start on.",
)
@cluster_options
@user_errors
def tui(
    url: str | None,
    refresh_seconds: float,
    readonly: bool,
    screen: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Browse topics, schemas and consumer lag in a terminal UI (k9s-style keys)."""
    from tui.app import StreamgovApp
    from tui.client import StreamgovClient, streamgov_answers

    access = server_access(url)  # the one credentials and TLS scheme of every command
    credentials = tui_credentials(access)

    def run(base_url: str, where: str | None = None) -> None:
        client = StreamgovClient(base_url, credentials, verify=access.verify())
        StreamgovApp(
            client, refresh_seconds=refresh_seconds, readonly=readonly, start=screen, where=where
        ).run()

    local = not url and cluster_name is None and bootstrap is None
    if local and streamgov_answers(DEFAULT_URL, credentials, verify=access.verify()):
        url = DEFAULT_URL
    if url:
        run(url)
        return
    from streamgov.server import ServerSettings, ServerStartError, create_app, serve_in_thread

    cluster = open_cluster(cluster_name, bootstrap)
    _log_to_file()
    try:
        app = create_app(cluster, ServerSettings(readonly=readonly))
        with serve_in_thread(app) as local_url:
            # The in-process server's port means nothing to the user; the cluster does.
            where = f"cluster {cluster.name}" if bootstrap is None else f"Kafka {cluster.name}"
            run(local_url, where)
    except ServerStartError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        cluster.close()
