"""Client properties reach a real Kafka client (the tansu broker the suite starts), and no
secret is ever printed: not in errors, not with --verbose."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.kafka import KafkaCluster
from streamgov.cli import cli
from streamgov.config import ClusterSettings

SECRET = "hunter2-Sup3r-S3cret"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.kafka
def test_properties_from_every_source_reach_the_client(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "streamgov.yaml"
    config.write_text("kafka:\n  client.id: from-file\n  socket.keepalive.enable: true\n")
    monkeypatch.setenv("STREAMGOV_CONFIG", str(config))
    monkeypatch.setenv("STREAMGOV_KAFKA_CLIENT_ID", "from-env")
    settings = ClusterSettings.resolve(None, kafka_bootstrap, ["security.protocol=plaintext"])
    cluster = settings.open()
    try:
        assert isinstance(cluster, KafkaCluster)
        cluster.list_topics()
        assert cluster._base["client.id"] == "from-env"
        assert cluster._base["socket.keepalive.enable"] == "true"
        assert cluster._base["security.protocol"] == "plaintext"
    finally:
        cluster.close()


@pytest.mark.kafka
def test_a_property_changes_what_the_client_does(kafka_bootstrap: str) -> None:
    topic = f"props-{uuid.uuid4().hex[:8]}"
    assert run("topics", "create", topic, "-b", kafka_bootstrap).exit_code == 0
    # The broker speaks plaintext: asking for TLS must fail, plaintext must work.
    good = run("topics", "list", "-b", kafka_bootstrap, "-X", "security.protocol=plaintext")
    assert good.exit_code == 0 and topic in good.stdout.split()
    bad = run("topics", "list", "-b", kafka_bootstrap, "-X", "security.protocol=ssl")
    assert bad.exit_code == 1
    assert "unreachable" in bad.output and "Traceback" not in bad.output


@pytest.mark.kafka
def test_a_refused_property_names_itself_and_its_source(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("topics", "list", "-b", kafka_bootstrap, "-X", "no.such.property=1")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: Kafka client configuration refused: No such configuration property: "
        '"no.such.property" (set by -X)'
    )
    config = tmp_path / "streamgov.yaml"
    config.write_text("kafka:\n\n  security.protocol: nope\n")
    monkeypatch.setenv("STREAMGOV_CONFIG", str(config))
    result = run("topics", "list", "-b", kafka_bootstrap)
    assert result.exit_code == 1
    assert "security.protocol" in result.output and f"(set by {config}:3)" in result.output


@pytest.mark.kafka
def test_secrets_are_never_printed(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    sasl = [
        "-X", "security.protocol=sasl_plaintext", "-X", "sasl.mechanism=PLAIN",
        "-X", "sasl.username=app",
    ]  # fmt: skip
    cases = [
        # The password on the command line, from a file, and from the environment.
        ([*sasl, "-X", f"sasl.password={SECRET}"], {}),
        ([*sasl, "-X", f"sasl.password=@{secret_file}"], {}),
        (sasl, {"STREAMGOV_KAFKA_SASL_PASSWORD": SECRET}),
        # A value librdkafka refuses, which its message would quote.
        ([*sasl, "-X", f"sasl.mechanism={SECRET}", "-X", f"sasl.password={SECRET}"], {}),
    ]
    for options, env in cases:
        for verbose in ([], ["-v"]):
            result = CliRunner().invoke(
                cli, ["topics", "list", "-b", kafka_bootstrap, *options, *verbose], env=env
            )
            # Whether the test broker takes the login or not, nothing may show the secret.
            if "sasl.mechanism=" + SECRET in options:
                assert "SASL mechanism: ***" in result.output and result.exit_code == 1
            assert SECRET not in result.output
            assert "Traceback" not in result.output
            if verbose:
                assert "sasl.password=*** (from " in result.output


def test_a_secret_in_a_malformed_option_is_not_echoed() -> None:
    result = run("topics", "list", "-b", "127.0.0.1:9", "-X", SECRET)
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "-X: expected KEY=VALUE" in result.output
