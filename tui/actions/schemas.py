"""What the subjects list and a subject's versions both do: change the compatibility level."""

from __future__ import annotations

from tui.dialogs.form import FormField, FormScreen
from tui.screens.base import DataScreen

LEVELS = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)


def change_level(screen: DataScreen, subject: str, current: str = "") -> None:
    """Ask for a new compatibility level of `subject` and set it."""

    async def done(values: dict[str, str] | None) -> None:
        if values is None:
            return
        await screen.perform(
            f"set {subject} to {values['level']}",
            screen.client.set_compatibility_level(subject, values["level"]),
        )

    fields = [FormField("level", "Level", value=current or "BACKWARD", choices=LEVELS)]
    screen.app.push_screen(
        FormScreen(f"Compatibility of {subject}", fields, submit_label="Set"), done
    )
