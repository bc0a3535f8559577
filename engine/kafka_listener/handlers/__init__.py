"""Request handlers, one module per family of Kafka APIs."""
