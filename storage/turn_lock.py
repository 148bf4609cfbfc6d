"""An asyncio lock with two queues: short, batched writes go first, but never twice in a row over a waiter."""

from __future__ import annotations

import asyncio
from collections import deque


class TurnLock:
    """Like asyncio.Lock, except that `acquire(urgent=True)` is served before ordinary waiters.

    The SQLite write gate uses it: one group commit makes dozens of updates durable in a few milliseconds,
    while an ordinary writer (a new tip) may hold the gate for tens of milliseconds. Behind a queue of tips
    every citizen's next step waited for all of them (measured: commit waits p99 400 ms and a throughput
    collapse under load). Urgent and ordinary holders alternate whenever both wait, so neither starves.
    """

    def __init__(self) -> None:
        self._locked = False
        self._last_urgent = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        """True while someone holds the lock."""
        return self._locked

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait for the lock (in order within each queue)."""
        if not self._locked and not self._urgent and not self._ordinary:
            self._locked, self._last_urgent = True, urgent
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._ordinary
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the lock was handed over just as the wait was cancelled: pass it on
            else:
                queue.remove(waiter)
            raise
        self._last_urgent = urgent

    def release(self) -> None:
        """Hand the lock to the next waiter, or unlock."""
        if not self._locked:
            raise RuntimeError("TurnLock is not held")
        order = (self._ordinary, self._urgent) if self._last_urgent else (self._urgent, self._ordinary)
        for queue in order:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # stays locked: ownership passes to the waiter
                    return
        self._locked = False
