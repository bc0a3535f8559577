"""The schema registry: schema formats, compatibility rules, the registry store, its
Confluent-compatible REST API, and the wire-format serializers."""
