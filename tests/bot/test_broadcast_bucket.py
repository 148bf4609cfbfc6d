"""The campaign lane's token bucket: pace, small bursts, and pauses for Telegram's retry_after."""

from __future__ import annotations

import pytest

from bot.token_bucket import TokenBucket


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_paces_at_the_rate_with_the_burst_allowed() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(0.1)


def test_no_more_than_burst_plus_rate_times_t_in_any_window() -> None:
    clock = FakeClock()
    bucket = TokenBucket(30, burst=3, clock=clock)
    taken: list[float] = []
    while clock.now < 110:
        if bucket.try_acquire() == 0.0:
            taken.append(clock.now)
        else:
            clock.now += 0.001
    for start in taken:
        in_window = [t for t in taken if start <= t < start + 1.0]
        assert len(in_window) <= 3 + 30


def test_a_pause_holds_everyone_and_ends_without_a_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock)
    bucket.pause(2.0)
    assert bucket.paused()
    assert bucket.try_acquire() == pytest.approx(2.0)
    clock.now += 1.0
    bucket.pause(0.5)  # a shorter pause never cuts a running one
    assert bucket.try_acquire() == pytest.approx(1.0)
    clock.now += 1.0
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(0.1)  # one at a time after a 429, not the whole burst


def test_rejects_a_nonsense_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(5, burst=0)
