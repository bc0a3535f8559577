"""The cluster admin REST API: topics, records and consumer groups in Confluent REST Proxy v3
shape (`/v3/clusters/...`), plus streamgov's record browsing and offset resets."""

from streamgov.clusterapi.routes import router

__all__ = ["router"]
