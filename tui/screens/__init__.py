"""The screens the `:` command bar can open. Adding a screen: one module and one line here.

Each entry maps the command name to `"module:Class"` of a `DataScreen` subclass that takes no
constructor arguments; the module is imported only when the screen is first opened.
"""

from __future__ import annotations

import importlib

from tui.screens.base import DataScreen

SCREENS: dict[str, str] = {
    "topics": "tui.screens.topics:TopicsScreen",
    "schemas": "tui.screens.schemas:SchemasScreen",
    "lag": "tui.screens.lag:LagScreen",
    "catalog": "tui.screens.catalog:CatalogScreen",
    "replication": "tui.screens.replication:ReplicationScreen",
    "audit": "tui.screens.audit:AuditScreen",
}


def open_screen(name: str) -> DataScreen:
    """A new instance of the registered screen `name`."""
    module_name, _, attribute = SCREENS[name].partition(":")
    screen_class = getattr(importlib.import_module(module_name), attribute)
    screen: DataScreen = screen_class()
    return screen
