"""`streamgov check`: the CI schema-compatibility check."""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

import click

from registry.check.baselines import BaselineError
from registry.check.config import CheckConfigError
from registry.check.git import GitError, GitRepo
from registry.check.report import OutputFormat, render, summary
from registry.check.runner import CheckRequest, run_check
from registry.check.text import one_line
from streamgov.cli.serveroptions import server_access


class CheckUsageError(click.ClickException):
    """A usage, configuration or baseline error: one line on stderr, exit code 2."""

    exit_code = 2


@click.command("check")
@click.option(
    "--against",
    metavar="BASELINE",
    default=None,
    help="Compare with git:REF, registry:URL (registry: alone is STREAMGOV_URL) or a "
    "directory (dir:PATH). Without it, schemas are only validated.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.HUMAN.value,
    show_default=True,
    help="Report format.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file (default: streamgov.yaml at the root).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The repository root (default: the git top level, else the current directory).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--report",
    "reports",
    metavar="FORMAT:FILE",
    multiple=True,
    help="Also write the report in FORMAT to FILE (repeatable), e.g. junit:schemas.xml.",
)
@click.option("--color/--no-color", default=None, help="Color human output (default: on a TTY).")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1, max=256),
    default=None,
    help="Processes that compare schemas (default: one per CPU).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each registry request.",
)
def check_command(
    against: str | None,
    output_format: str,
    config_file: Path | None,
    root: Path | None,
    output: Path | None,
    reports: tuple[str, ...],
    color: bool | None,
    jobs: int | None,
    timeout: float,
) -> None:
    """Check that schema files parse and stay compatible with a baseline.

    Exit status: 0 compatible, 1 incompatible, invalid or deleted, 2 usage, configuration or
    baseline error. Credentials for registry baselines come from STREAMGOV_TOKEN (a bearer
    token) or STREAMGOV_USER and STREAMGOV_PASSWORD; over https, STREAMGOV_TLS_CA is trusted
    and STREAMGOV_TLS_CERT/STREAMGOV_TLS_KEY is presented as a client certificate.
    """
    extra = [_report_target(spec) for spec in reports]
    if root is None:
        repo = GitRepo.find(Path.cwd())
        root = repo.root if repo is not None else Path.cwd()
    auth = None
    verify: ssl.SSLContext | bool = True
    if against is not None and against.startswith(("registry:", "http://", "https://")):
        try:
            access = server_access(None)
        except click.ClickException as exc:
            raise CheckUsageError(exc.message) from None
        if against == "registry:":
            against = f"registry:{access.url}"
        auth, verify = access.auth(), access.verify()
    try:
        report = run_check(
            CheckRequest(
                root=root,
                against=against,
                auth=auth,
                verify=verify,
                config_file=config_file,
                timeout=timeout,
                workers=jobs,
            )
        )
    except (CheckConfigError, BaselineError, GitError) as exc:
        raise CheckUsageError(one_line(str(exc))) from None
    fmt = OutputFormat(output_format)
    if color is None:
        color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    for extra_format, target in extra:
        _write(target, render(report, extra_format))
    text = render(report, fmt, color=color)
    if output is not None:
        _write(output, text)
        click.echo(summary(report))
    else:
        click.echo(text, nl=False, color=color)
    sys.exit(0 if report.ok else 1)


def _report_target(spec: str) -> tuple[OutputFormat, Path]:
    """Parse `FORMAT:FILE` of `--report`."""
    name, sep, path = spec.partition(":")
    try:
        if not sep or not path:
            raise ValueError
        return OutputFormat(name.strip().lower()), Path(path)
    except ValueError:
        formats = ", ".join(f.value for f in OutputFormat)
        raise click.BadParameter(
            f"{spec!r}: expected FORMAT:FILE with FORMAT one of {formats}",
            param_hint="--report",
        ) from None


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CheckUsageError(f"cannot write {path}: {exc.strerror or exc}") from None
