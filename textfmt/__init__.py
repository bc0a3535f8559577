"""Pure text formatting of values for people: counts, durations, sizes, rates and sparklines.

Shared by the TUI's tables and the CLI's output, so both show a value alike. It imports no
other package of the project: it sits below every package, the TUI included.
"""

from __future__ import annotations

from collections.abc import Sequence

SPARK_BARS = "▁▂▃▄▅▆▇█"


def count(value: int | None) -> str:
    """A count with thousands separators, `-` when unknown."""
    return "-" if value is None else f"{value:,}"


def duration_ms(value: str | int | None) -> str:
    """A duration in milliseconds as `7d`, `12h`, `30m`, `15s`, `250ms`; `-1` is `forever`."""
    if value is None or value == "":
        return "-"
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return str(value)
    if ms < 0:
        return "forever"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    if ms >= 1000:
        return f"{ms / 1000:.1f}s"
    return f"{ms}ms"


def seconds(value: float | None, lower_bound: bool = False) -> str:
    """A time lag in seconds, compact (`4.2s`, `3m05s`, `2h10m`); `>=` marks a lower bound."""
    if value is None:
        return "-"
    prefix = ">=" if lower_bound else ""
    if value < 60:
        return f"{prefix}{value:.1f}s"
    total = int(value)
    if total < 3600:
        return f"{prefix}{total // 60}m{total % 60:02d}s"
    if total < 2 * 86_400:
        return f"{prefix}{total // 3600}h{(total % 3600) // 60:02d}m"
    return f"{prefix}{total // 86_400}d{(total % 86_400) // 3600:02d}h"


def size(value: int | None) -> str:
    """Bytes in binary units (`512 B`, `1.5 KiB`, `12 MiB`), `-` when unknown."""
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            break
        amount /= 1024
    if unit == "B":
        return f"{value} B"
    return f"{amount:.1f} {unit}" if amount < 100 else f"{amount:.0f} {unit}"


def rate(value: float | None) -> str:
    """Records per second, `-` when unknown."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}/s"
    return f"{value:.1f}/s"


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """A text sparkline of the last `width` values, scaled from zero to their maximum: a bar's
    height is its value's share of the largest value shown (so a constant lag of 1 is all full
    bars, and so is a constant lag of 1,000); all zeros are the lowest bar. The lag list and a
    group's detail both draw with this one rule."""
    tail = list(values)[-width:]
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return SPARK_BARS[0] * len(tail)
    last = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[max(0, min(last, round(v / top * last)))] for v in tail)


def truncate(text: str, width: int) -> str:
    """Text cut to `width` characters with an ellipsis, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def fit_width(widths: Sequence[int], flex: int, available: int, minimum: int = 8) -> int:
    """The width column `flex` may take so that every column (content plus one cell of padding
    each side) fits in `available` cells; the column's own width when all fit, never below
    `minimum` (the table then scrolls)."""
    total = sum(width + 2 for width in widths)
    if total <= available:
        return widths[flex]
    return max(min(minimum, widths[flex]), widths[flex] - (total - available))
