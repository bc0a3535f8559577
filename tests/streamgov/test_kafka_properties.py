"""Kafka client properties from `-X`, the environment and `streamgov.yaml`; secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamgov.kafka_properties import (
    MASK,
    KafkaProperties,
    KafkaProperty,
    KafkaPropertyError,
    from_environment,
    from_options,
    from_yaml,
    gather,
)


def test_options_are_key_value_and_read_files_with_at(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    props = from_options(
        ["security.protocol=SASL_SSL", f"sasl.password=@{secret}", "client.id=@@literal"]
    )
    assert [(p.key, p.value, p.secret) for p in props] == [
        ("security.protocol", "SASL_SSL", False),
        ("sasl.password", "s3cret", True),
        ("client.id", "@literal", False),
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("novalue", "expected KEY=VALUE"),
        ("=x", "expected KEY=VALUE"),
        ("Bad Key=1", "is not a librdkafka property name"),
        ("bootstrap.servers=h:1", "--bootstrap"),
        ("sasl.password=@/nonexistent/file", "cannot read the file for sasl.password"),
    ],
)
def test_bad_options_name_what_is_wrong(option: str, message: str) -> None:
    with pytest.raises(KafkaPropertyError, match=message):
        from_options([option])


def test_the_environment_spells_properties_as_confluent_images_do(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file")
    env = {
        "STREAMGOV_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "STREAMGOV_KAFKA_SASL_PASSWORD_FILE": str(secret),
        "STREAMGOV_KAFKA_SOME__ODD_NAME": "1",
        "UNRELATED": "x",
    }
    assert {p.key: (p.value, p.secret, p.source) for p in from_environment(env)} == {
        "security.protocol": ("SASL_SSL", False, "STREAMGOV_KAFKA_SECURITY_PROTOCOL"),
        "sasl.password": ("from-file", True, "STREAMGOV_KAFKA_SASL_PASSWORD_FILE"),
        "some_odd.name": ("1", False, "STREAMGOV_KAFKA_SOME__ODD_NAME"),
    }


YAML = """\
schemas:
  compatibility: BACKWARD
kafka:
  security.protocol: SASL_SSL
  sasl.mechanism: PLAIN
  sasl.username: app
  sasl.password: {env: APP_KAFKA_PASSWORD}
  ssl.key.password: {file: KEYFILE}
  enable.ssl.certificate.verification: false
  message.max.bytes: 2000000
"""


def test_the_kafka_section_reads_values_files_and_variables(tmp_path: Path) -> None:
    keyfile = tmp_path / "key-pass"
    keyfile.write_text("key-secret\n")
    props = from_yaml(
        YAML.replace("KEYFILE", str(keyfile)), "streamgov.yaml", {"APP_KAFKA_PASSWORD": "pw"}
    )
    assert {p.key: (p.value, p.secret) for p in props} == {
        "security.protocol": ("SASL_SSL", False),
        "sasl.mechanism": ("PLAIN", False),
        "sasl.username": ("app", False),
        "sasl.password": ("pw", True),
        "ssl.key.password": ("key-secret", True),
        "enable.ssl.certificate.verification": ("false", False),
        "message.max.bytes": ("2000000", False),
    }
    assert [p.source for p in props][:4] == [f"streamgov.yaml:{n}" for n in (4, 5, 6)] + [
        "streamgov.yaml:7 (env APP_KAFKA_PASSWORD)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kafka: [a, b]\n", "streamgov.yaml:1: kafka must be a mapping"),
        ("kafka:\n  Not A Key: 1\n", "streamgov.yaml:2: 'Not A Key' is not a librdkafka"),
        ("kafka:\n  a.b: 1\n  a.b: 2\n", "streamgov.yaml:3: kafka.a.b is given twice"),
        ("kafka:\n  a.b: [1]\n", "streamgov.yaml:2: kafka.a.b: expected text"),
        ("kafka:\n  a.b:\n", "streamgov.yaml:2: kafka.a.b: the value is empty"),
        ("kafka:\n  a.b: {url: x}\n", "streamgov.yaml:2: kafka.a.b must be a value, {file"),
        ("kafka:\n  a.b: {env: NOPE_UNSET}\n", "streamgov.yaml:2: .* NOPE_UNSET, which is not"),
        ("kafka:\n  bootstrap.servers: h:1\n", "streamgov.yaml:2: bootstrap.servers cannot"),
        ("kafka: {\n", "streamgov.yaml:2: not valid YAML"),
    ],
)
def test_the_kafka_section_is_parsed_strictly_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(KafkaPropertyError, match=message):
        from_yaml(text, "streamgov.yaml", {})


def test_no_kafka_section_means_no_properties() -> None:
    assert from_yaml("schemas: {}\n", "streamgov.yaml", {}) == []
    assert from_yaml("", "streamgov.yaml", {}) == []
    assert from_yaml("kafka:\n", "streamgov.yaml", {}) == []


def test_precedence_is_file_then_environment_then_options(tmp_path: Path) -> None:
    config = tmp_path / "streamgov.yaml"
    config.write_text("kafka:\n  client.id: file\n  acks: file\n  linger.ms: file\n")
    env = {"STREAMGOV_KAFKA_ACKS": "env", "STREAMGOV_KAFKA_LINGER_MS": "env"}
    merged = gather(["linger.ms=option"], env, config).config()
    assert merged == {"client.id": "file", "acks": "env", "linger.ms": "option"}


KEYS = st.sampled_from(["sasl.password", "client.id", "ssl.key.password", "acks"])
VALUES = st.text(alphabet="abcXYZ019:/", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(KEYS, VALUES), max_size=4), min_size=1, max_size=3))
def test_the_last_source_that_sets_a_key_wins(sources: list[list[tuple[str, str]]]) -> None:
    merged = KafkaProperties.merge(
        *[[KafkaProperty(k, v, f"s{i}", False) for k, v in src] for i, src in enumerate(sources)]
    ).config()
    expected: dict[str, str] = {}
    for source in sources:
        for key, value in source:
            expected[key] = value
    assert merged == expected


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="QJZ#@!", min_size=1, max_size=30),
    st.text(alphabet="abc :", max_size=40),
    st.text(alphabet="abc :", max_size=40),
)
def test_a_secret_never_survives_scrub_or_describe(secret: str, before: str, after: str) -> None:
    props = KafkaProperties.merge(
        [
            KafkaProperty("sasl.password", secret, "-X", True),
            KafkaProperty("client.id", "visible", "-X", False),
        ]
    )
    assert props.scrub(before + secret + after + secret) == before + MASK + after + MASK
    assert secret not in "\n".join(props.describe())
    assert secret not in repr(props)
    assert "client.id=visible" in repr(props)
