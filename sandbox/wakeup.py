"""A tiny broadcast wake-up primitive for long-polling waiters."""

from __future__ import annotations

import asyncio


class Signal:
    """Wakes every current waiter on notify(); later waiters wait for the next notify()."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all tasks currently waiting."""
        self._event.set()
        # A fresh event so that waiters arriving later block until the next change.
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; return True if notified."""
        event = self._event
        if seconds <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True
