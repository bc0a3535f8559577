"""Build hook for the C fast paths of the embedded engine, of the Kafka listener and of the
`/v3` record pages (everything else is in pyproject.toml).

Binary wheels (cibuildwheel, see `[tool.cibuildwheel]` in pyproject.toml) set
`STREAMGOV_REQUIRE_FASTPATH=1`, so a wheel without the extension cannot be built. A source
install without a C compiler skips it; the pure-Python implementations then run, and
`streamgov --version` says so."""

import os

from setuptools import Extension, setup

REQUIRED = os.environ.get("STREAMGOV_REQUIRE_FASTPATH") == "1"

setup(
    ext_modules=[
        Extension("engine._fastpath", ["engine/_fastpath.c"], optional=not REQUIRED),
        Extension(
            "engine.kafka_listener._batches",
            ["engine/kafka_listener/_batches.c"],
            optional=not REQUIRED,
        ),
        Extension("clusterapi._pages", ["clusterapi/_pages.c"], optional=not REQUIRED),
    ]
)
