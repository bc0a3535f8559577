"""The options that point a command at a streamgov server or schema registry, read the one
way `streamgov.access` defines (`STREAMGOV_URL`, `STREAMGOV_USER`/`STREAMGOV_PASSWORD` or
`STREAMGOV_TOKEN`, `STREAMGOV_TLS_*`), and the record-format options of `produce` and `consume`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from streamgov.config import ConfigError

if TYPE_CHECKING:  # keep httpx and the registry client off the import path of --help
    from registry.client import RegistryClient
    from streamgov.access import ServerAccess

F = TypeVar("F", bound=Callable[..., Any])

CREDENTIALS_HELP = (
    "credentials from STREAMGOV_TOKEN or STREAMGOV_USER/STREAMGOV_PASSWORD; https trusts "
    "STREAMGOV_TLS_CA and presents STREAMGOV_TLS_CERT/STREAMGOV_TLS_KEY"
)


def server_access(url: str | None) -> ServerAccess:
    """The server these options and the environment name; deprecated names are noted on
    stderr, a bad setting is a one-line error."""
    from streamgov.access import ServerAccess

    try:
        access = ServerAccess.from_env(url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    for note in access.notes:
        click.echo(f"Note: {note}", err=True)
    return access


def registry_client(url: str | None) -> RegistryClient:
    """A schema registry client for `--registry-url` / `STREAMGOV_URL`, logged in."""
    from registry.client import RegistryClient

    access = server_access(url)
    return RegistryClient(access.url, auth=access.auth(), verify=access.verify())


def url_option(name: str, what: str) -> Callable[[F], F]:
    """`--NAME URL` for a streamgov server or registry (default: `STREAMGOV_URL`)."""
    return click.option(
        name,
        metavar="URL",
        default=None,
        help=f"{what} (env STREAMGOV_URL, default http://127.0.0.1:8081; {CREDENTIALS_HELP}).",
    )


def record_format_options(formats: Sequence[str]) -> Callable[[F], F]:
    """`--key-format`, `--value-format` and `-r/--registry-url`."""

    def decorate(func: F) -> F:
        func = click.option(
            "--registry-url",
            "-r",
            "registry_url",
            metavar="URL",
            default=None,
            help="Schema registry for avro/jsonschema/auto (env STREAMGOV_URL, default "
            f"http://127.0.0.1:8081; {CREDENTIALS_HELP}).",
        )(func)
        for side in ("value", "key"):
            func = click.option(
                f"--{side}-format",
                f"{side}_format",
                type=click.Choice(list(formats)),
                default="string",
                show_default=True,
                help=f"Format of the {side}: {', '.join(formats)}.",
            )(func)
        return func

    return decorate
