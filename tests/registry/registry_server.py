"""Running a real registry server for tests: in a thread (uvicorn) or as `streamgov up`."""

from __future__ import annotations

import contextlib
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from streamgov.server import serve_in_thread
from tests.commands import STREAMGOV

__all__ = ["registry_in_thread", "serve_in_thread", "start_up", "stop", "wait_ready"]


@contextlib.contextmanager
def registry_in_thread(directory: Path, name: str) -> Iterator[str]:
    """A registry server on an embedded cluster in `directory`; yields its URL."""
    from engine.embedded import EmbeddedCluster
    from streamgov.server import create_app

    cluster = EmbeddedCluster(directory, name=name)
    app = create_app(cluster)
    try:
        with serve_in_thread(app) as address:
            yield address
    finally:
        app.state.services.close()
        cluster.close()


def wait_ready(
    url: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = 30,
    verify: ssl.SSLContext | bool = True,
) -> None:
    """Block until the registry at `url` answers (checked with `verify` over https), or
    raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {out}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/schemas/types", timeout=1, verify=verify).status_code == 200:
                return
        time.sleep(0.05)
    raise TimeoutError(f"registry at {url} did not become ready")


def start_up(
    home: Path,
    port: int,
    *extra: str,
    env: dict[str, str] | None = None,
    verify: ssl.SSLContext | None = None,
) -> subprocess.Popen[bytes]:
    """Start `streamgov up` as a child process on `port` with STREAMGOV_HOME=`home`; with
    `verify` (for `--tls-*` in `extra`), wait for it over https."""
    environment = {**os.environ, "STREAMGOV_HOME": str(home), **(env or {})}
    environment.pop("STREAMGOV_BOOTSTRAP", None)
    proc = subprocess.Popen(
        [
            *STREAMGOV,
            "up",
            "--port",
            str(port),
            *extra,
            # Port 9092 is shared by every test process: a test that wants the Kafka
            # listener names its own --kafka-port.
            *([] if "--kafka-port" in extra else ["--no-kafka"]),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    scheme = "http" if verify is None else "https"
    wait_ready(f"{scheme}://127.0.0.1:{port}", proc, verify=True if verify is None else verify)
    return proc


def read_banner(proc: subprocess.Popen[bytes]) -> list[str]:
    """The lines `up` prints up to its last banner line (fails if it ends before)."""
    assert proc.stdout is not None
    seen: list[str] = []
    while not seen or seen[-1] != "Press Ctrl-C to stop.":
        line = proc.stdout.readline()
        assert line, f"up ended before its banner: {seen}"
        seen.append(line.decode().rstrip("\n"))
    return seen


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server process and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
