"""Token buckets emulating Telegram's global and per-chat flood control."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBucket:
    """A bucket refilled at `rate` tokens/s holding at most `burst` tokens."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, cost: float, now: float) -> float:
        """Seconds until `cost` may be taken (0 if now)."""
        self._refill(now)
        # A request bigger than the bucket (an album) only needs a full bucket and then goes into debt.
        needed = min(cost, self.burst)
        if self.tokens >= needed:
            return 0.0
        return (needed - self.tokens) / self.rate

    def take(self, cost: float, now: float) -> None:
        """Consume tokens (may go negative for oversize requests)."""
        self._refill(now)
        self.tokens -= cost


class SendLimiter:
    """Global + per-chat limits applied to sending methods."""

    def __init__(
        self,
        global_rate: float = 30.0,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self._global = TokenBucket(global_rate, max(global_rate, 1.0), clock())
        self._chats: dict[int, TokenBucket] = {}

    def configure(self, global_rate: float, per_chat_rate: float, per_chat_burst: float) -> None:
        """Change the limits; buckets start full again."""
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self._global = TokenBucket(global_rate, max(global_rate, 1.0), self._clock())
        self._chats.clear()

    def acquire(self, chat_id: int, cost: int = 1) -> int | None:
        """Take `cost` sends for chat_id; return None if allowed, else retry_after seconds (>= 1)."""
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = TokenBucket(self.per_chat_rate, self.per_chat_burst, now)
        wait = max(self._global.wait_time(cost, now), chat.wait_time(cost, now))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take(cost, now)
        chat.take(cost, now)
        return None
