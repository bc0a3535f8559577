"""Replication: every flow's remote topics with state, lag in records and time, and whether
the copy is exact (offsets equal to the source's)."""

from __future__ import annotations

from typing import Any

import textfmt as fmt
from tui.screens.base import Row, TableScreen


def topic_rows(flow: dict[str, Any]) -> list[Row]:
    """One row per remote topic of a flow (its partitions summed), or one for a flow that has
    copied nothing yet."""
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for partition in flow.get("partitions") or []:
        by_topic.setdefault(str(partition["remote_topic"]), []).append(partition)
    state = str(flow.get("state", "-"))
    if flow.get("error") and state == "failed":
        state = f"failed: {flow['error']}"
    if not by_topic:
        return [Row(str(flow["name"]), (str(flow["name"]), state, "-", "-", "-", "-", "-"))]
    rows = []
    for topic, partitions in sorted(by_topic.items()):
        lag = sum(int(p.get("lag_records", 0)) for p in partitions)
        lag_ms = max(int(p.get("lag_ms", 0)) for p in partitions)
        exact = all(bool(p.get("exact")) for p in partitions)
        rows.append(
            Row(
                f"{flow['name']}/{topic}",
                (
                    str(flow["name"]),
                    state,
                    topic,
                    str(len(partitions)),
                    fmt.count(lag),
                    fmt.seconds(lag_ms / 1000, False),
                    "yes" if exact else "no",
                ),
            )
        )
    return rows


class ReplicationScreen(TableScreen):
    """Replication flows and their remote topics."""

    TITLE_TEXT = "replication"
    COLUMNS = ("Flow", "State", "Remote topic", "Parts", "Lag", "Time lag", "Exact")

    async def load(self) -> None:
        body = await self.client.replication()
        flows = sorted(body.get("flows") or [], key=lambda f: str(f["name"]))
        self.set_rows([row for flow in flows for row in topic_rows(flow)])
