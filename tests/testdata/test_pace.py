"""The pacer against a fake clock: the long-run rate holds, late records are not delayed,
and no rate means no waiting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from testdata.pace import Pacer


class FakeTime:
    """A clock that moves only when slept on (or when work is simulated)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        self.slept += seconds


@given(
    rate=st.floats(0.5, 10_000),
    work=st.lists(st.floats(0, 0.01), min_size=1, max_size=200),
)
def test_n_records_take_n_over_rate_seconds_whatever_the_work(
    rate: float, work: list[float]
) -> None:
    time = FakeTime()
    pacer = Pacer(rate, time.clock, time.sleep)
    start = time.now
    for sent, cost in enumerate(work):
        pacer.wait(pacer.delay(sent))
        # record `sent` never goes out early
        assert time.now >= start + sent / rate - 1e-9
        time.now += cost  # producing it takes this long
    elapsed_before_last = time.now - start - work[-1]
    ideal = (len(work) - 1) / rate
    assert elapsed_before_last >= ideal - 1e-9
    # never later than the ideal schedule plus the work of one record
    assert elapsed_before_last <= max(ideal, sum(work[:-1])) + max(work) + 1e-9


def test_no_rate_never_waits() -> None:
    time = FakeTime()
    pacer = Pacer(None, time.clock, time.sleep)
    assert all(pacer.delay(n) == 0 for n in range(1000))
    assert time.slept == 0


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)
