"""Builds the bot, the dispatcher (routers, middlewares, FSM storage) and the process context."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import DEFAULT_TELEGRAM_API, Settings
from bot.context import AppContext
from bot.dedupe import DatabaseClaims, RedisClaims, UpdateClaims
from bot.fsm_memory import ConversationMemory
from bot.fsm_storage import DatabaseStorage, HashedKeyBuilder, create_redis_storage
from bot.lean_routing import walk_routers_leanly
from bot.middlewares import FloodGuard, ReporterMiddleware, UnitCommitMiddleware, UpdateUnitMiddleware
from bot.recent import RecentCache
from bot.retry import RetryMiddleware
from bot.state_routing import add_state_gates
from bot.telegram_objects import bind_bot_cheaply
from bot.telegram_session import TelegramSession
from bot.unit import GroupCommitter
from bot.webhook_reply import WebhookReplyMiddleware
from handlers import routers
from handlers.states import COLLECTING_STATES
from storage.batch_writer import batch_writer
from storage.db import create_engine, create_session_factory
from storage.privacy import PrivacyKeys


def create_bot(settings: Settings, api_base: str | None = None) -> Bot:
    """A Bot talking to Telegram, or to any Bot API server such as our sandbox."""
    base = api_base or settings.telegram_api_base or DEFAULT_TELEGRAM_API
    bind_bot_cheaply()
    session = TelegramSession(api=TelegramAPIServer.from_base(base), timeout=30)
    session.middleware(RetryMiddleware())
    session.middleware(WebhookReplyMiddleware())
    return Bot(settings.bot_token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_dispatcher(
    settings: Settings,
    keys: PrivacyKeys,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis | None = None,
) -> Dispatcher:
    """Dispatcher with sealed FSM storage, the middleware chain and every router."""
    storage: BaseStorage
    isolation: BaseEventIsolation
    claims: UpdateClaims
    memory: ConversationMemory | None = None
    if redis is not None:
        storage = create_redis_storage(redis, keys, ttl_seconds=settings.draft_retention_days * 86400)
        isolation = RedisEventIsolation(redis, key_builder=HashedKeyBuilder(keys, prefix="tinbao:lock"))
        claims = RedisClaims(redis)
    else:
        # One intake process (no Redis): it may keep committed conversation state in memory.
        memory = ConversationMemory()
        storage = DatabaseStorage(sessions, keys, memory)
        isolation = SimpleEventIsolation()
        claims = DatabaseClaims()
    # FSM is registered by hand so that it runs inside the update's unit of work: state is read with the
    # unit's session, and the unit commits before the per-person lock is released.
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation, disable_fsm=True, settings=settings, keys=keys)
    # SQLite has one writer and an fsync per commit: updates that only touched their FSM share commits.
    group = GroupCommitter(batch_writer(engine, sessions)) if engine.dialect.name == "sqlite" else None
    dispatcher.update.outer_middleware(UpdateUnitMiddleware(sessions, claims, group, memory))
    dispatcher.update.outer_middleware(dispatcher.fsm)
    dispatcher.update.outer_middleware(UnitCommitMiddleware())
    dispatcher.update.outer_middleware(
        ReporterMiddleware(keys, RecentCache(size=20_000, ttl_seconds=600.0) if redis is None else None)
    )
    dispatcher.update.outer_middleware(
        FloodGuard(
            max_updates=settings.flood_max_updates,
            window_seconds=settings.flood_window_seconds,
            collecting_states=COLLECTING_STATES,
        )
    )
    walk_routers_leanly()
    dispatcher.include_routers(*routers())
    add_state_gates(dispatcher)
    return dispatcher


def build_context(settings: Settings, *, api_base: str | None = None) -> AppContext:
    """Wire one process: keys from the master secret, database, Redis if configured, bot, dispatcher."""
    keys = PrivacyKeys.from_master(settings.master_secret())
    engine = create_engine(settings.effective_database_url)
    sessions = create_session_factory(engine)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    bot = create_bot(settings, api_base)
    dispatcher = create_dispatcher(settings, keys, engine, sessions, redis)
    return AppContext(
        settings=settings, keys=keys, engine=engine, sessions=sessions, bot=bot, dispatcher=dispatcher, redis=redis
    )
