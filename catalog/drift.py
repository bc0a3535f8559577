"""Differences between what services declare and what the cluster shows. Pure.

Three kinds: a declared consumer that was never seen on the stream, a consumer seen on the
stream that no service declares, and a producer that is not the stream's owner (a violation of
the single-writer principle, whether declared or observed).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.consumers import ConsumerView
from catalog.state import CatalogState

DECLARED_NOT_SEEN = "declared_not_seen"
SEEN_NOT_DECLARED = "seen_not_declared"
SINGLE_WRITER_VIOLATION = "single_writer_violation"


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference between declaration and observation on a stream."""

    kind: str
    topic: str
    who: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON form for the REST API and the CLI."""
        return {"kind": self.kind, "topic": self.topic, "who": self.who, "message": self.message}


def stream_drift(state: CatalogState, topic: str, consumers: list[ConsumerView]) -> list[Drift]:
    """Every drift finding for one stream, consumers first, then producers."""
    found: list[Drift] = []
    for view in consumers:
        if view.declared and not view.observed:
            found.append(
                Drift(
                    DECLARED_NOT_SEEN,
                    topic,
                    view.group,
                    f"service {view.service} declares {topic} as an input, but group "
                    f"{view.group} has no offsets or members on it",
                )
            )
        elif view.observed and not view.declared:
            reader = f"its service {view.service} does not" if view.service else "no service does"
            found.append(
                Drift(
                    SEEN_NOT_DECLARED,
                    topic,
                    view.group,
                    f"group {view.group} reads {topic}, but {reader} declare it as an input",
                )
            )
    stream = state.streams.get(topic)
    if stream is None or stream.owner is None:
        return found
    owner = stream.owner
    for service in state.writers_of(topic):
        if service.name != owner:
            found.append(
                Drift(
                    SINGLE_WRITER_VIOLATION,
                    topic,
                    service.name,
                    f"service {service.name} declares {topic} as an output, but {owner} owns it",
                )
            )
    for principal, client_id in sorted(state.producers.get(topic, {})):
        if state.service_of_producer(principal, client_id) != owner:
            who = principal if not client_id else f"{principal} (client {client_id})"
            found.append(
                Drift(
                    SINGLE_WRITER_VIOLATION,
                    topic,
                    who,
                    f"{who} wrote to {topic}, but only its owner {owner} may write it",
                )
            )
    return found
