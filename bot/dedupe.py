"""Claiming update ids so that an update delivered twice is handled once."""

from __future__ import annotations

import asyncio
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from storage.updates import highest_update_id, is_update_processed


class UpdateClaims(Protocol):
    """Decides whether this process may handle an update."""

    async def claim(self, update_id: int, session: AsyncSession) -> bool:
        """True if the update is new and now ours."""

    async def release(self, update_id: int, *, handled: bool) -> None:
        """Give the claim back; `handled` says whether the update's work was committed."""


class DatabaseClaims:
    """One intake process: memory answers for updates it saw, the table for those from before it started.

    Telegram numbers updates in increasing order, so every update with an id above the highest one recorded
    when this process started, and not remembered here, is new: no query is needed for it. Several intake
    processes need Redis (`RedisClaims`), as the README says.
    """

    def __init__(self, remember: int = 100_000) -> None:
        self._in_flight: set[int] = set()
        self._handled: dict[int, None] = {}  # insertion-ordered: the oldest ids are forgotten first
        self._remember = remember
        self._floor: int | None = None  # highest id recorded before this process handled anything
        self._floor_lock = asyncio.Lock()

    async def _ask_table(self, update_id: int, session: AsyncSession) -> bool:
        """Whether the table must be asked: the id is from before this process, or already forgotten."""
        if self._floor is None:
            async with self._floor_lock:
                if self._floor is None:
                    self._floor = await highest_update_id(session)
        return update_id <= self._floor

    async def claim(self, update_id: int, session: AsyncSession) -> bool:
        """True if no copy is being handled now and none was handled before."""
        if update_id in self._in_flight or update_id in self._handled:
            return False
        self._in_flight.add(update_id)
        if await self._ask_table(update_id, session) and await is_update_processed(session, update_id=update_id):
            self._in_flight.discard(update_id)
            return False
        return True

    async def release(self, update_id: int, *, handled: bool) -> None:
        """Remember handled updates (the table has them too); a failed one may be handled again."""
        self._in_flight.discard(update_id)
        if not handled:
            return
        self._handled[update_id] = None
        if len(self._handled) > self._remember:
            oldest = next(iter(self._handled))
            del self._handled[oldest]
            # From now on the table answers for ids up to the forgotten one.
            self._floor = max(self._floor or 0, oldest)


class RedisClaims:
    """Several workers: an atomic SET NX in Redis claims the update across processes."""

    def __init__(self, redis: Redis, ttl_seconds: int = 7 * 24 * 3600) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def claim(self, update_id: int, session: AsyncSession) -> bool:
        """True if this worker set the claim first."""
        return bool(await self._redis.set(f"tinbao:update:{update_id}", b"1", nx=True, ex=self._ttl))

    async def release(self, update_id: int, *, handled: bool) -> None:
        """Drop the claim when the work failed, so a redelivery is handled."""
        if not handled:
            await self._redis.delete(f"tinbao:update:{update_id}")
