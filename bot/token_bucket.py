"""An asyncio token bucket (GCRA) that can be paused, for the campaign sender's pace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """Lets `rate` acquisitions per second through, with bursts of at most `burst`; `pause()` stops all.

    GCRA form: a theoretical arrival time advances by 1/rate per token, and a caller may go when it is
    no more than (burst - 1)/rate ahead. A pause (Telegram's 429 retry_after) holds every caller, and
    sending starts again at the pace, not with a burst.
    """

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._clock = clock
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._tat = clock()
        self._paused_until = 0.0

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return 1.0 / self._interval

    @property
    def paused_until(self) -> float:
        """Clock time until which nobody may send (0 when never paused)."""
        return self._paused_until

    def paused(self) -> bool:
        """True while a pause is running."""
        return self._clock() < self._paused_until

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` from now (a longer running pause is kept)."""
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
        # After the pause the pace restarts from zero: no catch-up burst right after a 429.
        self._tat = max(self._tat, self._paused_until + self._tolerance)

    def try_acquire(self) -> float:
        """Take a token and return 0.0, or return how long to wait before trying again."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        tat = max(self._tat, now)
        earliest = tat - self._tolerance
        if earliest > now:
            return earliest - now
        self._tat = tat + self._interval
        return 0.0

    async def acquire(self) -> None:
        """Wait for a token (re-checking after every sleep, so a pause that starts meanwhile holds us too)."""
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            await asyncio.sleep(wait)
