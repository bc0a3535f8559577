"""The screens the `:` command bar can open. Adding a screen: one module and one line here.

Each entry maps the command name to `"module:Class"` of a `DataScreen` subclass that takes no
constructor arguments; the module is imported only when the screen is first opened.
"""

from __future__ import annotations

import importlib

from tui.permissions import Need
from tui.screens.base import DataScreen

SCREENS: dict[str, str] = {
    "topics": "tui.screens.topics:TopicsScreen",
    "schemas": "tui.screens.schemas:SchemasScreen",
    "lag": "tui.screens.lag:LagScreen",
    "catalog": "tui.screens.catalog:CatalogScreen",
    "replication": "tui.screens.replication:ReplicationScreen",
    "audit": "tui.screens.audit:AuditScreen",
}


#: What opening a screen needs on the server (the `:` bar offers it only to users who have
#: it): reading the audit log needs DESCRIBE on the cluster, as in Confluent Platform.
SCREEN_NEEDS: dict[str, Need] = {"audit": Need("DESCRIBE", "CLUSTER", cluster=True)}


def open_screen(name: str) -> DataScreen:
    """A new instance of the registered screen `name`."""
    module_name, _, attribute = SCREENS[name].partition(":")
    screen_class = getattr(importlib.import_module(module_name), attribute)
    screen: DataScreen = screen_class()
    return screen
