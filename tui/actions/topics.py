"""What the topics list and a topic's detail both do: change a config key, delete the topic."""

from __future__ import annotations

from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.form import FormField, FormScreen, required
from tui.screens.base import TableScreen


def refused_internal(screen: TableScreen, topic: str, action: str) -> bool:
    """Refuse (and say so) to `action` an internal topic: a state log such as _schemas."""
    if not topic.startswith("_"):
        return False
    screen.notify(
        f"{topic} is internal (it holds streamgov's or the cluster's state): the TUI does not "
        f"{action} it; `streamgov topics` can, with --internal",
        severity="error",
    )
    return True


def alter_config(screen: TableScreen, topic: str, key: str = "", value: str = "") -> None:
    """Ask for a config key and value (empty resets it) and apply it to `topic`."""
    if refused_internal(screen, topic, "reconfigure"):
        return

    async def done(values: dict[str, str] | None) -> None:
        if values is None:
            return
        new_value = values["value"].strip() or None
        await screen.perform(
            f"set {values['key'].strip()} on {topic}",
            screen.client.alter_configs(topic, {values["key"].strip(): new_value}),
        )

    fields = [
        FormField("key", "Key", value=key, placeholder="retention.ms", validate=required),
        FormField("value", "Value", value=value, placeholder="empty resets to the default"),
    ]
    screen.app.push_screen(FormScreen(f"Config of {topic}", fields, submit_label="Apply"), done)


def delete_topic(screen: TableScreen, topic: str, *, then_back: bool = False) -> None:
    """Delete `topic` after a confirmation naming it."""
    if refused_internal(screen, topic, "delete"):
        return

    async def done(confirmed: bool | None) -> None:
        if not confirmed:
            return
        worked = await screen.perform(f"delete topic {topic}", screen.client.delete_topic(topic))
        if worked and then_back:
            screen.sg.back()

    screen.app.push_screen(
        ConfirmScreen(
            f"Delete topic {topic}?",
            "Its records are removed for good; producers and consumers of it will fail.",
        ),
        done,
    )
