"""`retain_freed_memory`: applied once per process where malloc is glibc's; a started listener
freezes its long-lived heap."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from engine.kafka_listener import memory
from tests.engine.listener.conftest import probe_started_listener


def _glibc() -> bool:
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or None).gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    return True


def test_applied_where_malloc_is_glibcs_and_the_same_answer_every_time() -> None:
    first = memory.retain_freed_memory()
    assert first == (_glibc() and platform.system() == "Linux")
    assert memory.retain_freed_memory() is first


_PATTERN = """
import resource, sys
from engine.kafka_listener import memory
assert memory.retain_freed_memory()
size = 1024 * 1024
def cycle():
    held = [bytearray(size) for _ in range(4)]  # four frames or responses in flight
    del held
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not _glibc(), reason="malloc is not glibc's")
def test_megabyte_buffers_made_again_reuse_their_pages() -> None:
    """Four 1 MiB buffers made and freed twenty times in a fresh process: glibc's defaults
    give all 4 MiB back each time (about 20,000 page faults here); retained, the pages are
    reused and fewer than one buffer's worth (256 pages) is faulted in over all twenty."""
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _PATTERN], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) < 256


_FROZEN = """
import gc
from kio.schema.describe_cluster.v0 import request
tracked = {id(o) for o in gc.get_objects()}
later = [object()]  # a list is always tracked
print(gc.get_freeze_count(), id(request.DescribeClusterRequest) in tracked,
      id(later) in {id(o) for o in gc.get_objects()})
"""


def test_a_started_listener_leaves_its_long_lived_heap_out_of_collections(
    tmp_path: Path,
) -> None:
    # The message classes loaded at start-up are frozen (no collection walks them again);
    # what is made later is still collected.
    frozen, class_tracked, later_tracked = probe_started_listener(_FROZEN, tmp_path).split()
    assert int(frozen) > 10_000 and class_tracked == "False" and later_tracked == "True"
