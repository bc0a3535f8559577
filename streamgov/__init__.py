"""streamgov: governance suite for event-driven microservices (composition root)."""

__version__ = "0.1.0"
