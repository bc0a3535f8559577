"""`produce` delivers slow input as it arrives, reports what it wrote on Ctrl-C, and its
counter counts only records the cluster acknowledged."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.types import OffsetSpec
from streamgov.cli.lines import IDLE, read_lines
from streamgov.cli.output import Progress
from streamgov.cli.produce import FLUSH_EVERY, produce_lines
from tests.commands import STREAMGOV


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def latest(home: Path, topic: str) -> int:
    cluster = EmbeddedCluster(home / "clusters" / "default", name="default")
    try:
        return sum(cluster.list_offsets(topic, OffsetSpec.LATEST).values())
    finally:
        cluster.close()


def test_lines_from_a_pipe_that_stays_open_are_delivered_one_by_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "STREAMGOV_HOME": str(home)}
    env.pop("STREAMGOV_BOOTSTRAP", None)
    env.pop("STREAMGOV_CLUSTER", None)
    created = subprocess.run(
        [*STREAMGOV, "topics", "create", "logs"], env=env, capture_output=True, check=False
    )
    assert created.returncode == 0, created.stderr
    producer = subprocess.Popen(
        [*STREAMGOV, "produce", "logs"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert producer.stdin is not None and producer.stderr is not None
    try:
        for count in (1, 2, 3):
            producer.stdin.write(b"line %d\n" % count)
            producer.stdin.flush()  # the pipe stays open: only delivery-on-idle can show it
            wait_until(lambda c=count: latest(home, "logs") == c, f"record {count}")
        producer.send_signal(signal.SIGINT)
        assert producer.wait(timeout=60) == 130
        assert producer.stderr.read().decode().strip().splitlines()[-1] == (
            "Interrupted: produced 3 record(s) to logs."
        )
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()


class Recorder(Progress):
    """Records, at each counter update, the count shown and what the cluster holds."""

    def __init__(self, cluster: EmbeddedCluster, topic: str) -> None:
        super().__init__("produced")
        self.cluster, self.topic = cluster, topic
        self.seen: list[tuple[int, int]] = []

    def update(self, count: int) -> None:
        held = sum(self.cluster.list_offsets(self.topic, OffsetSpec.LATEST).values())
        self.seen.append((count, held))


@pytest.mark.parametrize("idle_every", [1, 7, None])
def test_the_counter_shows_only_written_records(tmp_path: Path, idle_every: int | None) -> None:
    cluster = EmbeddedCluster(tmp_path, name="t")
    cluster.create_topic("t", 1)
    total = FLUSH_EVERY + 20
    lines: list[bytes | None] = []
    for n in range(total):
        lines.append(b"%d" % n)
        if idle_every and n % idle_every == 0:
            lines.append(IDLE)
    recorder = Recorder(cluster, "t")
    try:
        sent = produce_lines(
            cluster, "t", lines, separator=None, partition=None, headers=(), progress=recorder
        )
        assert sent == total
        assert recorder.seen, "the counter was never updated"
        assert all(shown == held for shown, held in recorder.seen)
        assert recorder.seen[-1] == (total, total)
        if idle_every is None:  # fast input is still sent in large batches
            assert [shown for shown, _ in recorder.seen] == [FLUSH_EVERY, total]
    finally:
        cluster.close()


def test_in_memory_input_has_no_idle_points_and_custom_delimiters_split() -> None:
    assert list(read_lines(io.BytesIO(b"a|b||c"), delimiter=b"|")) == [b"a", b"b", b"", b"c"]
    assert list(read_lines(io.BytesIO(b"a\r\nb\n"))) == [b"a", b"b"]
    assert list(read_lines(io.BytesIO(b"a\r|b|"), delimiter=b"|")) == [b"a\r", b"b"]


def test_an_open_pipe_with_nothing_ready_yields_idle() -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"one\ntw")
        with os.fdopen(read_end, "rb", buffering=0) as stream:
            lines = read_lines(stream)  # type: ignore[arg-type]
            assert next(lines) == b"one"
            assert next(lines) is IDLE  # "tw" is not a whole line and nothing else is ready
            os.write(write_end, b"o\n")
            assert next(lines) == b"two"
            os.close(write_end)
            write_end = -1
            assert list(lines) == []  # end of input: ready, and nothing more
    finally:
        if write_end >= 0:
            os.close(write_end)
