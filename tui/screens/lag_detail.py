"""One consumer group: lag per partition, lag history, recommendation and offset resets."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

import textfmt as fmt
from tui.actions.lag import status_cell
from tui.client import ApiError, ServerUnreachableError
from tui.dialogs.confirm import ConfirmScreen
from tui.dialogs.form import FormField, FormScreen
from tui.permissions import Need
from tui.screens.base import SHAPE_ERRORS, Row, TableScreen

RESET_POSITIONS = ("EARLIEST", "LATEST", "OFFSET", "TIMESTAMP", "SHIFT_BY")


def partition_row(p: dict[str, Any]) -> Row:
    """The table row of one partition (`PartitionLagModel` of the lag monitor API)."""
    committed = p.get("committed")
    return Row(
        f"{p['topic']}:{p['partition']}",
        (
            str(p["topic"]),
            str(p["partition"]),
            "-" if committed is None else fmt.count(int(committed)),
            fmt.count(int(p.get("end_offset", 0))),
            fmt.count(int(p.get("lag", 0))),
            fmt.seconds(p.get("time_lag_seconds"), bool(p.get("time_lag_is_lower_bound"))),
            status_cell(str(p.get("status", "-")), p.get("completeness")),
            str(p.get("owner") or "-"),
        ),
    )


def summary(group: dict[str, Any]) -> Text:
    """Status, totals, rates and the recommendation of a group, in a few lines."""
    text = Text()
    text.append("status ")
    text.append_text(status_cell(str(group.get("status", "-")), group.get("completeness")))
    text.append(f"  {group.get('status_reason', '')}\n")
    text.append(
        f"state {group.get('state', '-')}  members {group.get('members', 0)}  "
        f"lag {fmt.count(int(group.get('total_lag', 0)))}  time lag "
        f"{fmt.seconds(group.get('time_lag_seconds'), bool(group.get('time_lag_is_lower_bound')))}"
        f"  in {fmt.rate(group.get('production_rate'))}  out "
        f"{fmt.rate(group.get('consumption_rate'))}\n"
    )
    text.append(f"replicas {group.get('recommended_replicas', '-')}", style="bold")
    text.append(f"  {group.get('recommendation_reason', '')}")
    return text


#: Samples of lag history the detail shows (the server keeps up to 60).
HISTORY_WIDTH = 60


def history_line(history: list[float]) -> Text:
    """The group's lag history as one sparkline, on the same scale rule as the list's column
    (`fmt.sparkline`: bars from zero to the largest value shown), with that largest value."""
    text = Text("history ")
    if not history:
        return text.append("-")
    shown = history[-HISTORY_WIDTH:]
    text.append(fmt.sparkline(shown, HISTORY_WIDTH), style="cyan")
    text.append(f"  0..{fmt.count(int(max(shown)))} over {len(shown)} samples", style="dim")
    return text


def reset_value(text: str) -> int | None:
    """The reset dialog's value: a whole number (offset, shift, epoch ms) or an ISO-8601 time
    (as epoch ms); None when empty. ValueError names what is wrong."""
    stripped = text.strip()
    if not stripped:
        return None
    if re.fullmatch(r"[+-]?\d+", stripped):
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"{stripped!r} is neither a whole number nor an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def reset_fields(topics: list[str]) -> list[FormField]:
    """The reset dialog's fields."""

    def check_value(text: str) -> str | None:
        try:
            reset_value(text)
        except ValueError as exc:
            return str(exc)
        return None

    return [
        FormField("position", "To", value="LATEST", choices=RESET_POSITIONS),
        FormField(
            "value",
            "Value",
            placeholder="offset, shift (+/-), or time (ISO-8601 / epoch ms)",
            validate=check_value,
        ),
        FormField("topic", "Topic", value="(all)", choices=("(all)", *topics)),
    ]


def plan_table(plan: list[dict[str, Any]]) -> str:
    """The per-partition plan of a reset, as `streamgov groups reset` prints it."""
    headers = ("TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET")
    rows = [
        (
            str(p["topic_name"]),
            str(p["partition_id"]),
            "-" if p.get("previous_offset") is None else str(p["previous_offset"]),
            str(p["offset"]),
        )
        for p in plan
    ]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (headers, *rows)
    )


class LagDetailScreen(TableScreen):
    """A group's partitions with lag and status; `r` resets its offsets."""

    COLUMNS = ("Topic", "P", "Committed", "End", "Lag", "Time lag", "Status", "Owner")
    WRITE_ACTIONS = frozenset({"reset"})
    NEEDS: ClassVar[dict[str, Need]] = {"reset": Need("READ", "GROUP")}
    BINDINGS: ClassVar[list[BindingType]] = [
        *TableScreen.BINDINGS,
        Binding("r", "reset", "Reset offsets", tooltip="Move the group's offsets (asks first)"),
    ]

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group
        self.topics: list[str] = []

    def own_resource(self) -> str:
        """This screen's group: its actions apply to it."""
        return self.group

    def title_text(self) -> str:
        return f"lag > {self.group}"

    def compose_table(self) -> ComposeResult:
        yield Static("", id="lag-summary")
        yield Static("", id="lag-history")
        yield self.make_table()

    async def load(self) -> None:
        group = await self.client.lag_group(self.group)
        partitions = sorted(
            group.get("partitions") or [], key=lambda p: (str(p["topic"]), int(p["partition"]))
        )
        self.topics = sorted({str(p["topic"]) for p in partitions} | set(group.get("topics") or []))
        self.query_one("#lag-summary", Static).update(summary(group))
        history = [float(p.get("lag", 0)) for p in group.get("lag_history") or []]
        self.query_one("#lag-history", Static).update(history_line(history))
        self.set_rows([partition_row(p) for p in partitions])

    def action_reset(self) -> None:
        """Ask where to move the group's offsets, show the per-partition plan (a dry run on
        the server), confirm, then reset them."""

        async def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            topic = None if values["topic"] == "(all)" else values["topic"]
            value = reset_value(values["value"])
            where = values["position"] + ("" if value is None else f" {value}")
            try:
                plan = await self.client.reset_offsets(
                    self.group, values["position"], value, topic=topic, validate_only=True
                )
            except (ApiError, ServerUnreachableError, *SHAPE_ERRORS) as exc:
                self.notify(f"reset {self.group} to {where} refused: {exc}", severity="error")
                return

            async def confirmed(answer: bool | None) -> None:
                if answer:
                    await self.perform(
                        f"reset {self.group} to {where}",
                        self.client.reset_offsets(
                            self.group, values["position"], value, topic=topic
                        ),
                    )

            self.app.push_screen(
                ConfirmScreen(
                    f"Reset offsets of {self.group} on {topic or 'all its topics'} to {where}?",
                    f"{plan_table(plan)}\n\nThe group re-reads or skips records from there. "
                    "Its consumers must be stopped.",
                    confirm_label="Reset",
                ),
                confirmed,
            )

        self.app.push_screen(
            FormScreen(
                f"Reset offsets of {self.group}", reset_fields(self.topics), submit_label="Next"
            ),
            chosen,
        )
