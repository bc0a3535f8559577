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
