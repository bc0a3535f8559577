"""How a command picks its cluster from options and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from streamgov.cli import cli
from streamgov.config import ClusterSettings, ConfigError, embedded_cluster_path


def test_defaults_to_the_embedded_default_cluster(streamgov_home: Path) -> None:
    settings = ClusterSettings.resolve(None, None)
    assert settings == ClusterSettings(cluster="default", bootstrap=None)
    assert embedded_cluster_path(settings.cluster) == streamgov_home / "clusters" / "default"


def test_environment_picks_kafka(streamgov_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMGOV_BOOTSTRAP", " 127.0.0.1:9092 ")
    assert ClusterSettings.resolve(None, None).bootstrap == "127.0.0.1:9092"


def test_cluster_and_bootstrap_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="--cluster and --bootstrap both given"):
        ClusterSettings.resolve("dev", "127.0.0.1:9092")


def test_an_empty_bootstrap_is_refused() -> None:
    with pytest.raises(ConfigError, match="--bootstrap is empty"):
        ClusterSettings.resolve(None, "  ")


@pytest.mark.parametrize("name", ["..", ".", "a/b", "x" * 65, "spaces here"])
def test_bad_cluster_names_name_the_rule(name: str, streamgov_home: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        embedded_cluster_path(name)


def test_cli_reports_the_conflict_in_one_line(streamgov_home: Path) -> None:
    result = CliRunner().invoke(
        cli, ["topics", "list", "--cluster", "dev", "--bootstrap", "127.0.0.1:9"]
    )
    assert result.exit_code != 0
    assert "--cluster and --bootstrap both given" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("cluster", "bootstrap", "env", "expected"),
    [
        # An option wins over the environment, whichever the environment names.
        ("dev", None, {"STREAMGOV_BOOTSTRAP": "h:9092"}, ("dev", None)),
        (None, "h:1", {"STREAMGOV_CLUSTER": "dev"}, ("default", "h:1")),
        ("dev", None, {"STREAMGOV_CLUSTER": "other"}, ("dev", None)),
        (None, "h:1", {"STREAMGOV_BOOTSTRAP": "h:2"}, ("default", "h:1")),
        # Without options, the environment picks.
        (None, None, {"STREAMGOV_CLUSTER": "dev"}, ("dev", None)),
        (None, None, {"STREAMGOV_BOOTSTRAP": "h:2"}, ("default", "h:2")),
        (None, None, {}, ("default", None)),
    ],
)
def test_one_rule_an_option_beats_the_environment(
    cluster: str | None,
    bootstrap: str | None,
    env: dict[str, str],
    expected: tuple[str, str | None],
) -> None:
    settings = ClusterSettings.resolve(cluster, bootstrap, env=env)
    assert (settings.cluster, settings.bootstrap) == expected


def test_both_environment_variables_without_an_option_are_refused() -> None:
    env = {"STREAMGOV_CLUSTER": "dev", "STREAMGOV_BOOTSTRAP": "h:1"}
    with pytest.raises(ConfigError, match="both set"):
        ClusterSettings.resolve(None, None, env=env)


def test_client_properties_with_an_embedded_cluster_are_refused() -> None:
    with pytest.raises(ConfigError, match="-X sets Kafka client properties"):
        ClusterSettings.resolve("dev", None, ["acks=all"], env={})


def test_the_cli_lets_cluster_win_over_the_bootstrap_variable(
    streamgov_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 9: were the variable used, the command would fail.
    monkeypatch.setenv("STREAMGOV_BOOTSTRAP", "127.0.0.1:9")
    result = CliRunner().invoke(cli, ["topics", "create", "t", "--cluster", "dev"])
    assert result.exit_code == 0, result.output
    assert (streamgov_home / "clusters" / "dev").is_dir()
