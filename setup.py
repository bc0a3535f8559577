"""Build hook for the optional C fast path of the embedded engine (everything else is in
pyproject.toml). When no C compiler is available the build skips it and the pure-Python
implementations are used."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("engine._fastpath", ["engine/_fastpath.c"], optional=True),
    ]
)
