"""URLs and Confluent resource names of the cluster admin API's resources."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from clusterapi.models import (
    CollectionMetadata,
    Relationship,
    ResourceMetadata,
)


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


@dataclass(frozen=True)
class Links:
    """Builds absolute URLs under `base` (the server's root URL) for one cluster."""

    base: str
    cluster_id: str

    def url(self, *segments: str | int) -> str:
        """`{base}/v3/clusters/{cluster_id}/seg/seg...`, each segment percent-encoded."""
        path = "/".join(_seg(s) for s in segments)
        root = f"{self.base.rstrip('/')}/v3/clusters/{_seg(self.cluster_id)}"
        return f"{root}/{path}" if path else root

    def related(self, *segments: str | int) -> Relationship:
        """A link to a sub-resource."""
        return Relationship(related=self.url(*segments))

    def crn(self, *pairs: tuple[str, str | int]) -> str:
        """The Confluent resource name, e.g. `crn:///kafka=c1/topic=orders`."""
        tail = "".join(f"/{kind}={value}" for kind, value in pairs)
        return f"crn:///kafka={self.cluster_id}{tail}"

    def resource(
        self, segments: tuple[str | int, ...], *pairs: tuple[str, str | int]
    ) -> ResourceMetadata:
        """Metadata of a single resource."""
        return ResourceMetadata(self=self.url(*segments), resource_name=self.crn(*pairs))

    def collection(self, *segments: str | int, next_url: str | None = None) -> CollectionMetadata:
        """Metadata of a collection."""
        return CollectionMetadata(self=self.url(*segments), next=next_url)
