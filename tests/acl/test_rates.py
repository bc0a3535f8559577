"""Kafka's windowed rate and throttle time, on a clock the tests drive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from acl.rates import WindowedRate, record_and_throttle, throttle_ms


def test_a_new_rate_spans_at_least_ten_windows() -> None:
    rate = WindowedRate(11, 1000)
    rate.record(5000, 0)
    assert rate.span_ms(0) == 10_000
    assert rate.rate(0) == 500.0
    assert rate.span_ms(10_500) == 10_500  # ten full windows: no padding any more


def test_the_throttle_is_the_excess_over_the_quota_times_the_span() -> None:
    rate = WindowedRate(11, 1000)
    # 20,000 bytes over a 10 s span is 2,000 B/s: twice a 1,000 B/s quota, so a whole span.
    assert record_and_throttle(rate, 20_000, 1000.0, 0) == 10_000
    assert throttle_ms(WindowedRate(), 1000.0, 0) == 0


def test_the_request_throttle_is_bounded_by_one_window() -> None:
    rate = WindowedRate(11, 1000)
    assert record_and_throttle(rate, 20_000, 1000.0, 0, bound_ms=1000) == 1000


def test_windows_older_than_all_of_them_are_forgotten() -> None:
    rate = WindowedRate(11, 1000)
    rate.record(11_000, 0)
    assert rate.rate(10_999) > 0
    assert rate.rate(11_000) == 0.0


def test_unrecording_takes_usage_back() -> None:
    rate = WindowedRate(11, 1000)
    rate.record(3000, 100)
    rate.record(-3000, 100)
    assert rate.rate(100) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    quota=st.integers(1_000, 1_000_000),
    sizes=st.lists(st.floats(0.001, 0.05), min_size=1, max_size=20),
)
def test_a_client_that_honours_its_throttle_gets_its_quota(quota: int, sizes: list[float]) -> None:
    """Sending as fast as allowed for 60 s (requests of up to 5% of the quota, each followed
    by the throttle it earned) moves the quota per second within 10%."""
    rate = WindowedRate(11, 1000)
    now, sent, i = 0.0, 0.0, 0
    while now < 60_000:
        size = sizes[i % len(sizes)] * quota
        i += 1
        sent += size
        now += record_and_throttle(rate, size, float(quota), now) + 1
    assert 0.9 * quota <= sent / (now / 1000) <= 1.1 * quota
