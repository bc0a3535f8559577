"""How tests run the command line in a child process: through the Python under test
(`python -m streamgov`), never whatever `streamgov` is first on PATH."""

from __future__ import annotations

import sys

STREAMGOV: tuple[str, ...] = (sys.executable, "-m", "streamgov")
