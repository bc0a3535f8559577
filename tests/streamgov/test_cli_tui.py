"""`streamgov tui`: options, the in-process server, and a real run in a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from streamgov.cli import cli
from streamgov.server import serve_in_thread


def test_tui_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(cli, ["tui", "--help"])
    assert result.exit_code == 0
    for option in ("--url", "--refresh", "--readonly", "--screen", "--cluster", "--bootstrap"):
        assert option in result.output


def test_bad_options_are_one_line_errors() -> None:
    result = CliRunner().invoke(cli, ["tui", "--refresh", "0"])
    assert result.exit_code == 2
    assert "--refresh" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["tui", "--screen", "nope"])
    assert result.exit_code == 2


def test_serve_in_thread_serves_and_stops() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with serve_in_thread(app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/ping").json() == {"pong": "yes"}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/ping", timeout=1)


def _plain(output: bytes) -> str:
    """Terminal output without its escape sequences."""
    return re.sub(rb"\x1b\[[0-9;?<>]*[a-zA-Z]", b"", output).decode(errors="replace")


def run_in_terminal(
    args: list[str],
    home: Path,
    extra_env: dict[str, str] | None = None,
    shown: str = "Produce rate",
) -> tuple[int, str]:
    """Run `streamgov tui ARGS` in a pseudo-terminal, wait until it shows `shown` (by default
    the topics screen is up), press q."""
    env = dict(os.environ, STREAMGOV_HOME=str(home), TERM="xterm-256color")
    env.pop("STREAMGOV_URL", None)
    env.update(extra_env or {})
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        entry = "import sys; from streamgov.cli import main; sys.exit(main())"
        os.execvpe(sys.executable, [sys.executable, "-c", entry, "tui", *args], env)
    output = b""
    deadline = time.monotonic() + 60
    sent_quit = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                output += os.read(fd, 65536)
            except OSError:  # the terminal closed: the command has exited
                _, status = os.waitpid(pid, 0)
                os.close(fd)
                return os.waitstatus_to_exitcode(status), _plain(output)
        if not sent_quit and shown in _plain(output):
            os.write(fd, b"q")
            sent_quit = True
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            os.close(fd)
            return os.waitstatus_to_exitcode(status), _plain(output)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError(f"streamgov tui did not finish; output: {output[-2000:]!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_tui_runs_on_the_local_embedded_cluster(tmp_path: Path) -> None:
    code, text = run_in_terminal([], tmp_path)
    assert code == 0
    assert "Traceback" not in text
    assert (tmp_path / "clusters" / "default").is_dir()
    assert (tmp_path / "logs" / "tui-server.log").is_file()
