"""Everything one TinBáo process shares, built once from settings and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.privacy import PrivacyKeys


@dataclass(slots=True)
class AppContext:
    """Settings, keys, database, Telegram client and dispatcher of one process."""

    settings: Settings
    keys: PrivacyKeys
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    redis: Redis | None = None

    async def close(self) -> None:
        """Release network and database resources."""
        await self.bot.session.close()
        await self.dispatcher.storage.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()
