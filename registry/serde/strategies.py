"""Subject name strategies: which subject a record's schema lives under."""

from __future__ import annotations

from collections.abc import Callable

from registry.serde.wire import SerdeError

#: (topic, is_key, record name) -> subject
SubjectNameStrategy = Callable[[str, bool, "str | None"], str]


def topic_name_strategy(topic: str, is_key: bool, record_name: str | None) -> str:
    """`{topic}-key` / `{topic}-value` (Confluent's default)."""
    return f"{topic}-{'key' if is_key else 'value'}"


def _need_name(record_name: str | None) -> str:
    if not record_name:
        raise SerdeError(
            "this subject name strategy needs a named schema (an Avro record or a JSON Schema "
            "with a 'title')"
        )
    return record_name


def record_name_strategy(topic: str, is_key: bool, record_name: str | None) -> str:
    """The fully-qualified record name."""
    return _need_name(record_name)


def topic_record_name_strategy(topic: str, is_key: bool, record_name: str | None) -> str:
    """`{topic}-{record name}`."""
    return f"{topic}-{_need_name(record_name)}"


STRATEGIES: dict[str, SubjectNameStrategy] = {
    "topic": topic_name_strategy,
    "record": record_name_strategy,
    "topic_record": topic_record_name_strategy,
}
