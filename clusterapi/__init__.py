"""The cluster admin REST API: topics, records and consumer groups in Confluent REST Proxy v3
shape (`/v3/clusters/...`), plus streamgov's record browsing and offset resets."""

from clusterapi.routes import build_router, mount

__all__ = ["build_router", "mount"]
