"""Extra Prometheus text on `/metrics`: a component adds a source when it is mounted, the
`/metrics` route appends every source's text after its own."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

MetricsSource = Callable[[], str]


def add_metrics_source(app: FastAPI, source: MetricsSource) -> None:
    """Have `/metrics` include `source()`'s text."""
    sources: list[MetricsSource] = getattr(app.state, "metrics_sources", [])
    sources.append(source)
    app.state.metrics_sources = sources


def extra_metrics(app: FastAPI) -> str:
    """The text of every added source, in the order they were added."""
    sources: list[MetricsSource] = getattr(app.state, "metrics_sources", [])
    return "".join(source() for source in sources)
