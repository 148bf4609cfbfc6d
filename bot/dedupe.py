"""Claiming update ids so that an update delivered twice is handled once."""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from storage.updates import is_update_processed


class UpdateClaims(Protocol):
    """Decides whether this process may handle an update."""

    async def claim(self, update_id: int, session: AsyncSession) -> bool:
        """True if the update is new and now ours."""

    async def release(self, update_id: int, *, handled: bool) -> None:
        """Give the claim back; `handled` says whether the update's work was committed."""


class DatabaseClaims:
    """One process: an in-flight set guards concurrent copies, the table guards later redeliveries."""

    def __init__(self) -> None:
        self._in_flight: set[int] = set()

    async def claim(self, update_id: int, session: AsyncSession) -> bool:
        """True if no copy is being handled now and none was handled before."""
        if update_id in self._in_flight:
            return False
        self._in_flight.add(update_id)
        if await is_update_processed(session, update_id=update_id):
            self._in_flight.discard(update_id)
            return False
        return True

    async def release(self, update_id: int, *, handled: bool) -> None:
        """The table now remembers handled updates; the in-flight mark can go."""
        self._in_flight.discard(update_id)


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
