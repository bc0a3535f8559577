"""What the logged-in user may do, as the server says (`GET /authorized-operations`), so the
screens offer only the actions that will be allowed. Pure but for `Permissions.learn`.

Each screen names what its actions need (`Need`); a need is decided on the resource the
action applies to (the selected row, the screen's topic, or the cluster). Until the server
has answered, an action is offered (the server still decides); a server without
authorization answers with no principal and every action is offered from then on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.client import StreamgovClient

#: The name of the cluster resource, as Kafka names it.
CLUSTER = "kafka-cluster"
#: Names asked about in one request (the server takes up to 1000).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Need:
    """An action needs `operation` on a resource of `resource_type`: the cluster when
    `cluster`, else the one the screen names (its topic, the selected row)."""

    operation: str
    resource_type: str
    cluster: bool = False

    def refusal(self, principal: str | None, name: str) -> str:
        """`User:alice may not DELETE TOPIC orders` (the server's words for a 403)."""
        who = principal or "you"
        return f"{who} may not {self.operation} {self.resource_type} {name}"


@dataclass
class Permissions:
    """The operations the principal may perform per resource, as last learned."""

    #: who the server says is logged in (None: not known yet, or authorization is off)
    principal: str | None = None
    #: authorization is off (or the server has no such query): everything is offered
    unrestricted: bool = False
    _known: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def allows(self, need: Need, name: str) -> bool:
        """Whether to offer the action on `name` (True while not known)."""
        if self.unrestricted:
            return True
        operations = self._known.get((need.resource_type, name))
        return operations is None or need.operation in operations

    def remember(self, resource_type: str, name: str, operations: Iterable[str]) -> None:
        """Record what the server said about one resource."""
        self._known[(resource_type, name)] = frozenset(operations)

    def forget(self) -> None:
        """Drop everything learned (after logging in as someone else)."""
        self.principal = None
        self.unrestricted = False
        self._known.clear()

    async def learn(self, client: StreamgovClient, wanted: Iterable[tuple[str, str]]) -> None:
        """Ask the server about these (resource type, name) pairs."""
        if self.unrestricted:
            return
        by_type: dict[str, list[str]] = defaultdict(list)
        for resource_type, name in dict.fromkeys(wanted):
            by_type[resource_type].append(name)
        for resource_type, names in by_type.items():
            for start in range(0, len(names), _CHUNK):
                answer = await client.authorized_operations(
                    resource_type, names[start : start + _CHUNK]
                )
                if answer is None:  # a server without the query
                    self.unrestricted = True
                    return
                principal, operations = answer
                if principal is None:
                    self.unrestricted = True
                    return
                self.principal = principal
                for name, allowed in operations.items():
                    self.remember(resource_type, name, allowed)
