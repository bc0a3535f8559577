"""When the end-offset file is fsynced: on the writer's thread only for a `durable` cluster,
otherwise by a background timer soon after the write, and always before close returns."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from engine.embedded import ends
from engine.embedded.ends import EndOffsets


class FsyncSpy:
    """Records the thread of every fsync (which still happens) and signals the first one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        self.synced = threading.Event()
        real = os.fsync

        def fsync(fd: int) -> None:
            real(fd)
            self.threads.append(threading.get_ident())
            self.synced.set()

        monkeypatch.setattr(ends.os, "fsync", fsync)


def spied_recorder(
    path: Path, monkeypatch: pytest.MonkeyPatch, interval_s: float
) -> tuple[EndOffsets, FsyncSpy]:
    """A recorder that is not durable, fsyncing within `interval_s`, and the spy on it."""
    monkeypatch.setattr(ends, "SYNC_INTERVAL_S", interval_s)
    return EndOffsets(path), FsyncSpy(monkeypatch)


def test_a_write_is_fsynced_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, spy = spied_recorder(tmp_path / "t.ends", monkeypatch, 0.0)
    recorder.raise_to({0: 5, 2: 7})
    assert spy.synced.wait(30), "the background fsync never ran"
    assert threading.get_ident() not in spy.threads
    assert recorder.read() == {0: 5, 1: 0, 2: 7}
    recorder.close()


def test_writes_wait_for_no_fsync_within_the_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, spy = spied_recorder(tmp_path / "t.ends", monkeypatch, 3600.0)
    for end in range(1, 50):
        recorder.raise_to({0: end})
    assert spy.threads == []
    recorder.close()  # what is not synced yet is synced on close, on the closing thread
    assert spy.threads == [threading.get_ident()]
    assert EndOffsets(tmp_path / "t.ends").read() == {0: 49}


def test_a_durable_recorder_fsyncs_every_write_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = FsyncSpy(monkeypatch)
    recorder = EndOffsets(tmp_path / "t.ends", durable=True)
    recorder.raise_to({0: 1})
    recorder.raise_to({1: 2})
    assert spy.threads == [threading.get_ident()] * 2
    recorder.close()
    assert spy.threads == [threading.get_ident()] * 2
