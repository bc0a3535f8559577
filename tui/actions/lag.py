"""What the lag list and a group's detail both show: statuses and replica counts as cells."""

from __future__ import annotations

from rich.text import Text

#: Status colours by severity (Burrow's vocabulary; STOP/STALL/REWIND are errors).
SEVERITY = {
    "OK": "green",
    "PENDING": "cyan",
    "WARN": "yellow",
    "ERR": "bold red",
    "STOP": "bold red",
    "STALL": "bold red",
    "REWIND": "bold red",
}


def status_cell(status: str, completeness: float | None = None) -> Text:
    """A status coloured by its severity; PENDING ("not judged yet") shows how much of the
    window is filled, when known."""
    shown = status
    if status.upper() == "PENDING" and completeness is not None:
        shown = f"{status} {completeness:.0%}"
    return Text(shown, style=SEVERITY.get(status.upper(), ""))


def replicas_cell(members: int, recommended: int) -> Text:
    """`n` when the recommendation holds, `n→m` (coloured) when it asks for a change."""
    if recommended == members:
        return Text(str(recommended))
    style = "yellow" if recommended > members else "cyan"
    return Text(f"{members}→{recommended}", style=style)
