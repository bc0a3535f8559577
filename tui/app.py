"""The terminal UI application: navigation, the command bar, help and live refresh."""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Select, TextArea

from tui.client import ApiError, Credentials, ServerUnreachableError, StreamgovClient
from tui.decode import SchemaCache
from tui.dialogs.command_bar import CommandScreen
from tui.dialogs.form import FormField, FormScreen, required
from tui.dialogs.help import HelpScreen
from tui.permissions import CLUSTER, Permissions
from tui.screens import SCREEN_NEEDS, SCREENS, open_screen
from tui.screens.base import SHAPE_ERRORS, DataScreen

#: Commands of the `:` bar besides the screens.
EXTRA_COMMANDS = ("quit",)


class StreamgovApp(App[None]):
    """k9s-style terminal UI over a streamgov server's REST API.

    Every top-level screen of `SCREENS` is a Textual mode with its own screen stack: detail
    screens are pushed onto the mode's stack, `esc` pops them, `:name` switches mode.
    """

    CSS_PATH = Path(__file__).with_name("streamgov.tcss")
    TITLE = "streamgov"
    ENABLE_COMMAND_PALETTE = False
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        # Priority: handled before the key reaches the focused widget, so what is typed right
        # after `:` lands in the bar (`:lag` in one motion); `check_action` lets `:` through
        # to inputs.
        Binding(
            "colon",
            "command",
            "Cmd",
            key_display=":",
            tooltip="Command bar: jump to a screen",
            priority=True,
        ),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        client: StreamgovClient,
        *,
        refresh_seconds: float = 2.0,
        readonly: bool = False,
        start: str = "topics",
        where: str | None = None,
    ) -> None:
        super().__init__()
        #: What the title bar says the UI is connected to (the server's URL by default).
        self.where = where or client.url
        if start not in SCREENS:
            raise ValueError(f"unknown screen {start!r}; choose one of {', '.join(SCREENS)}")
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.readonly = readonly
        self.start = start
        self.schemas = SchemaCache(client)
        #: what the logged-in user may do (learned from the server as screens load)
        self.permissions = Permissions()
        self._logging_in = False
        for name in SCREENS:
            self.add_mode(name, partial(open_screen, name))

    def on_mount(self) -> None:
        self.switch_mode(self.start)
        self.set_interval(self.refresh_seconds, self.tick, name="refresh")
        self.learn_cluster_access()

    @work(exclusive=True, group="access")
    async def learn_cluster_access(self) -> None:
        """Ask what the user may do on the cluster (for the screens `:` offers); quietly
        nothing when the server cannot say now (a 401 asks for a login on the screen)."""
        with contextlib.suppress(ApiError, ServerUnreachableError, *SHAPE_ERRORS):
            await self.permissions.learn(self.client, [("CLUSTER", CLUSTER)])

    def screen_names(self) -> list[str]:
        """The screens the `:` bar offers: those the user may open."""
        return [
            name
            for name in SCREENS
            if name not in SCREEN_NEEDS or self.permissions.allows(SCREEN_NEEDS[name], CLUSTER)
        ]

    async def on_unmount(self) -> None:
        await self.client.close()

    # -- live refresh --------------------------------------------------------------------------

    def is_typing(self) -> bool:
        """Whether the user is typing or in a dialog (refresh pauses then)."""
        focused = self.focused
        return isinstance(focused, Input | TextArea | Select) or isinstance(
            self.screen, ModalScreen
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`:` is a key like any other while the user is typing or in a dialog."""
        return not (action == "command" and self.is_typing())

    def tick(self) -> None:
        """Reload the current screen unless the user is typing."""
        screen = self.screen
        if isinstance(screen, DataScreen) and screen.is_live() and not self.is_typing():
            screen.reload()

    # -- logging in ----------------------------------------------------------------------------

    def ask_login(self, reason: str) -> None:
        """Ask for a user and password (the server answered 401); once they work, every
        screen loads again as that user."""
        if self._logging_in:
            return
        self._logging_in = True

        async def log_in(values: dict[str, str]) -> str | None:
            self.client.log_in(
                Credentials(user=values["user"].strip(), password=values["password"])
            )
            try:
                await self.client.authorized_operations("CLUSTER", [CLUSTER])
            except ApiError as exc:
                return "wrong user or password" if exc.status == 401 else str(exc)
            except ServerUnreachableError as exc:
                return str(exc)
            return None

        def done(values: dict[str, str] | None) -> None:
            self._logging_in = False
            if values is None:
                return
            self.permissions.forget()
            self.learn_cluster_access()
            self.notify(f"logged in as {values['user'].strip()}")
            if isinstance(self.screen, DataScreen):
                self.screen.reload()

        fields = [
            FormField("user", "User", validate=required),
            FormField("password", "Password", password=True),
        ]
        title = f"Log in to {self.client.url} ({reason})"
        self.push_screen(FormScreen(title, fields, submit_label="Log in", action=log_in), done)

    # -- navigation ----------------------------------------------------------------------------

    def goto(self, name: str | None) -> None:
        """Show the top-level screen `name` (its mode, back at its list, freshly loaded), or
        quit."""
        if name is None:
            return
        if name == "quit":
            self.exit()
            return
        self.switch_mode(name)
        while self.in_detail():
            self.pop_screen()
        if isinstance(self.screen, DataScreen) and self.screen.is_mounted:
            self.screen.reload()

    def in_detail(self) -> bool:
        """Whether a detail screen is on top of the current mode's top-level screen."""
        return len(self.screen_stack) > 1

    def back(self) -> None:
        """Leave a detail screen; top-level screens stay."""
        if self.in_detail():
            self.pop_screen()

    def action_command(self) -> None:
        """Open the `:` command bar."""
        self.push_screen(CommandScreen([*self.screen_names(), *EXTRA_COMMANDS]), self.goto)

    def action_help(self) -> None:
        """Show every key of the current screen."""
        screen = self.screen
        if isinstance(screen, ModalScreen):
            return
        # The screen's own keys first, then the application's, then the focused widget's. A
        # key the screen declares is described as the screen does, even where the focused
        # widget handles it (`enter` on a table selects the row, which opens it).
        own = {b.key: b for b in screen.BINDINGS if isinstance(b, Binding)}
        ranked: list[tuple[int, str, str]] = []
        for key, active in screen.active_bindings.items():
            binding = own.get(key, active.binding)
            if key not in own and (
                binding.action.startswith(("app.focus", "screen.copy")) or key == "ctrl+q"
            ):
                continue  # Textual's own defaults, not keys of this UI
            rank = 0 if active.node is screen or key in own else 1 if active.node is self else 2
            label = binding.key_display or self.get_key_display(binding) or key
            description = binding.tooltip or binding.description or binding.action.replace("_", " ")
            if not active.enabled or not screen.check_action(binding.action, ()):
                if not isinstance(screen, DataScreen):
                    continue
                refusal = screen.refusal(binding.action)
                if refusal is not None:
                    description += f" (disabled: {refusal})"
                elif binding.action in screen.WRITE_ACTIONS and self.readonly:
                    description += " (disabled: read-only)"
                else:
                    continue  # does nothing here (`esc` on a top-level screen)
            ranked.append((rank, label, description))
        if isinstance(screen, DataScreen):
            # The screen's keys hidden because the user may not take them (or --readonly):
            # listed all the same, with why.
            for key, binding in own.items():
                if key in screen.active_bindings:
                    continue
                why = screen.refusal(binding.action)
                if why is None and binding.action in screen.WRITE_ACTIONS and self.readonly:
                    why = "read-only"
                if why is not None:
                    label = binding.key_display or self.get_key_display(binding) or key
                    ranked.append(
                        (0, label, f"{binding.tooltip or binding.description} (disabled: {why})")
                    )
        keys = [
            (label, description) for _, label, description in sorted(ranked, key=lambda r: r[0])
        ]
        title = screen.title_text() if isinstance(screen, DataScreen) else ""
        self.push_screen(HelpScreen(title, keys))
