"""`python -m streamgov` is the command line."""

from __future__ import annotations

import subprocess

from streamgov import __version__
from tests.commands import STREAMGOV


def test_python_m_streamgov_runs_the_command_line() -> None:
    result = subprocess.run([*STREAMGOV, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"streamgov, version {__version__}")
    usage = subprocess.run([*STREAMGOV, "nope"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "Usage: streamgov" in usage.stderr
