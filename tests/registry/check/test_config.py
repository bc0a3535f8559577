"""The `schemas:` section of streamgov.yaml: accepted shapes and errors that point at lines."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.config import (
    _RULE_KEYS,
    CheckConfigError,
    ReferenceSpec,
    Strategy,
    glob_to_regex,
    parse_config,
)
from registry.compatibility import CompatibilityLevel
from registry.formats import SchemaType

FULL = """\
streams:            # another part of the suite: ignored here
  orders: {owner: team-a}
schemas:
  compatibility: full
  allow_deleted: ["legacy-*"]
  history: 5
  files:
    - path: ./schemas/orders.avsc
      subject: orders-value
      compatibility: BACKWARD_TRANSITIVE
      references:
        - {name: com.acme.Money, subject: money-value}
        - {name: com.acme.Tax, subject: tax-value, version: 3}
    - glob: "events/**/*.avsc"
      strategy: io.confluent.kafka.serializers.subject.RecordNameStrategy
    - glob: "keys/*.json"
      strategy: topic
      key: true
      type: json
      topic: "{parent}.{stem}"
"""


def test_full_section_is_read() -> None:
    config = parse_config(FULL)
    assert not config.conventions
    assert config.compatibility is CompatibilityLevel.FULL
    assert config.history == 5
    explicit, record_glob, key_glob = config.rules
    assert explicit.path == "schemas/orders.avsc"
    assert explicit.subject == "orders-value"
    assert explicit.compatibility is CompatibilityLevel.BACKWARD_TRANSITIVE
    assert explicit.references == (
        ReferenceSpec("com.acme.Money", "money-value"),
        ReferenceSpec("com.acme.Tax", "tax-value", 3),
    )
    assert explicit.line == 8
    assert record_glob.strategy is Strategy.RECORD
    assert key_glob.key and key_glob.schema_type is SchemaType.JSON
    assert key_glob.topic == "{parent}.{stem}"


def test_no_section_means_conventions() -> None:
    assert parse_config("streams: {}\n").conventions
    assert parse_config("").conventions


def test_deletions_allowed_by_glob_or_true() -> None:
    config = parse_config(FULL)
    assert config.deletion_allowed("legacy-orders")
    assert not config.deletion_allowed("orders-value")
    assert parse_config("schemas: {allow_deleted: true}").deletion_allowed("anything")
    assert not parse_config("schemas: {}").deletion_allowed("anything")
    owned = parse_config("schemas: {owned_subjects: [orders-*]}")
    assert owned.owns("orders-value") and not owned.owns("payments-value")
    with pytest.raises(CheckConfigError, match=r":1: owned_subjects must be true, false or a list"):
        parse_config("schemas: {owned_subjects: 3}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schemas:\n  files:\n    - path: a.avsc\n      subjet: x\n",
            r":4: unknown key 'subjet'.*'subject'",
        ),
        ("schemas:\n  compatibilty: FULL\n", r":2: unknown key 'compatibilty'"),
        ("schemas:\n  compatibility: SIDEWAYS\n", r":2: invalid compatibility level 'SIDEWAYS'"),
        ("schemas:\n  files:\n    - subject: x\n", r":3: .*exactly one of 'path' or 'glob'"),
        (
            "schemas:\n  files:\n    - glob: '*.avsc'\n      subject: x\n",
            r":4: .*needs a 'strategy'",
        ),
        (
            "schemas:\n  files:\n    - glob: '*'\n      strategy: nope\n",
            r":4: unknown naming strategy",
        ),
        ("schemas:\n  history: 0\n", r":2: schemas.history must be"),
        ("schemas:\n  files: {a: 1}\n", r":2: files must be a list"),
        ("schemas: [1]\n", r":1: schemas must be a mapping"),
        (
            "schemas:\n  files:\n    - path: a\n      references: [{name: x}]\n",
            r":4: .*needs 'name' and 'subject'",
        ),
        ("schemas:\n  files:\n    - path: a\n      type: PROTOBUF2\n", r":4: unknown schema type"),
        ("schemas:\n  files:\n    - glob: a\n      topic: '{oops}'\n", r":4: .*placeholders"),
        ("schemas: [\n", r":\d+: not valid YAML"),
    ],
)
def test_errors_name_file_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(CheckConfigError, match=r"^streamgov\.yaml" + expected):
        parse_config(text)


def test_strategy_aliases() -> None:
    assert Strategy.parse("TopicNameStrategy") is Strategy.TOPIC
    assert Strategy.parse("topic_record") is Strategy.TOPIC_RECORD
    assert Strategy.parse("record") is Strategy.RECORD


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("schemas/*.avsc", "schemas/a.avsc", True),
        ("schemas/*.avsc", "schemas/sub/a.avsc", False),
        ("schemas/**/*.avsc", "schemas/a.avsc", True),
        ("schemas/**/*.avsc", "schemas/x/y/a.avsc", True),
        ("**/*.avsc", "a.avsc", True),
        ("schemas/?.avsc", "schemas/ab.avsc", False),
        ("schemas/[ab].avsc", "schemas/b.avsc", True),
        ("schemas/[!ab].avsc", "schemas/b.avsc", False),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert (re.fullmatch(glob_to_regex(pattern), path) is not None) is matches


_PLAIN = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="._-/"),
    min_size=1,
    max_size=30,
)


@settings(deadline=None, max_examples=60)
@given(_PLAIN, _PLAIN)
def test_glob_without_wildcards_matches_only_itself(pattern: str, other: str) -> None:
    regex = glob_to_regex(pattern)
    assert re.fullmatch(regex, pattern)
    assert (re.fullmatch(regex, other) is not None) is (other == pattern)


@settings(deadline=None, max_examples=60)
@given(st.lists(_PLAIN.filter(lambda s: "/" not in s), min_size=1, max_size=4))
def test_double_star_spans_any_directories(parts: list[str]) -> None:
    path = "/".join([*parts, "x.avsc"])
    assert re.fullmatch(glob_to_regex("**/*.avsc"), path)
    assert re.fullmatch(glob_to_regex(f"{parts[0]}/**"), path)


_KEY = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(lambda key: key not in _RULE_KEYS)


@settings(deadline=None, max_examples=60)
@given(_KEY, st.integers(0, 5), st.integers(0, 3))
def test_unknown_key_is_named_with_its_line(key: str, entries_before: int, blank: int) -> None:
    lines = ["schemas:", *([""] * blank), "  files:"]
    for n in range(entries_before):
        lines += [f"    - path: s{n}.avsc", f"      subject: s{n}"]
    lines += ["    - path: x.avsc", f"      {key}: 1"]
    with pytest.raises(CheckConfigError) as caught:
        parse_config("\n".join(lines) + "\n")
    assert str(caught.value).startswith(f"streamgov.yaml:{len(lines)}: unknown key {key!r}")
