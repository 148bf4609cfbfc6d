"""Update middlewares: one unit of work, the pseudonymous reporter and language, flood control."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dedupe import UpdateClaims
from bot.fsm_memory import ConversationMemory
from bot.i18n import _, pick_locale, set_locale
from bot.recent import RecentCache
from bot.unit import GroupCommitter, UpdateUnit, current_unit
from storage.privacy import PrivacyKeys
from storage.reporters import ReporterRef, ensure_reporter, find_reporter
from storage.sqlite_driver import reads_inline

logger = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateUnitMiddleware(BaseMiddleware):
    """Skip updates already handled and give the update one session (UnitCommitMiddleware commits it)."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        claims: UpdateClaims,
        group: GroupCommitter | None = None,
        memory: ConversationMemory | None = None,
    ) -> None:
        self._sessions = session_factory
        self._claims = claims
        self._group = group
        self._memory = memory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Run the update inside its unit of work."""
        assert isinstance(event, Update)
        # An update reads a few indexed rows: on the loop's thread, not via a trip (storage/sqlite_driver.py).
        with reads_inline():
            async with self._sessions() as session:
                if not await self._claims.claim(event.update_id, session):
                    logger.info("update %d already handled, skipped", event.update_id)
                    return None
                unit = UpdateUnit(session=session, update_id=event.update_id, group=self._group, memory=self._memory)
                token = current_unit.set(unit)
                try:
                    data["session"] = session
                    data["unit"] = unit
                    return await handler(event, data)
                except BaseException:
                    await session.rollback()
                    raise
                finally:
                    current_unit.reset(token)
                    await self._claims.release(event.update_id, handled=unit.committed)


class UnitCommitMiddleware(BaseMiddleware):
    """Commit the update's work while the per-person FSM lock is still held, so no write is lost."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Run the rest of the chain, then commit the unit."""
        result = await handler(event, data)
        unit: UpdateUnit = data["unit"]
        await unit.commit()
        return result


class ReporterMiddleware(BaseMiddleware):
    """Attach the reporter found by keyed hash, and translate into their language."""

    def __init__(self, keys: PrivacyKeys, known: RecentCache[bytes, ReporterRef] | None = None) -> None:
        self._keys = keys
        # Only when this is the one intake process (no Redis): a language change in another process
        # would not be seen here. Handlers that change the reporter call `known.forget`.
        self._known = known

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Look the reporter up (creating one on first contact) and set the update's locale."""
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        key_hash = self._keys.reporter_hash(user.id)
        reporter = self._known.get(key_hash) if self._known is not None else None
        if reporter is None:
            reporter = await self._load(data["session"], data["unit"], key_hash, user)
            if self._known is not None:
                self._known.store({key_hash: reporter})
        data["reporter"] = reporter
        data["known_reporters"] = self._known
        set_locale(reporter.locale)
        return await handler(event, data)

    @staticmethod
    async def _load(session: AsyncSession, unit: UpdateUnit, key_hash: bytes, user: User) -> ReporterRef:
        found = await find_reporter(session, key_hash=key_hash)
        if found is not None:
            return ReporterRef.of(found)
        # First contact: durable at once (nothing else is written yet), so the write lock is not held for
        # the rest of the update; with a group committer it joins the next batch.
        return await unit.write_now(partial(ensure_reporter, key_hash=key_hash, locale=pick_locale(user.language_code)))


class FloodGuard(BaseMiddleware):
    """Per-person rate limit: while a form collects text or files, floods are stored silently."""

    def __init__(self, *, max_updates: int, window_seconds: float, collecting_states: frozenset[str]) -> None:
        self._max = max_updates
        self._window = window_seconds
        self._collecting = collecting_states
        self._hits: dict[str, deque[float]] = {}
        self._warned_at: dict[str, float] = {}

    def _over_limit(self, key: str, now: float) -> bool:
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self._window:
            hits.popleft()
        hits.append(now)
        if len(self._hits) > 50_000:  # forget idle people so memory stays bounded
            for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > self._window][:10_000]:
                self._hits.pop(stale, None)
                self._warned_at.pop(stale, None)
        return len(hits) > self._max

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        """Let normal traffic through; in a flood keep content, drop the rest with one polite notice."""
        reporter = data.get("reporter")
        if reporter is None:
            return await handler(event, data)
        key = str(reporter.id)
        now = time.monotonic()
        if not self._over_limit(key, now):
            data["flooding"] = False
            return await handler(event, data)
        if data.get("raw_state") in self._collecting:
            data["flooding"] = True
            return await handler(event, data)
        if now - self._warned_at.get(key, 0.0) > self._window:
            self._warned_at[key] = now
            chat = data.get("event_chat")
            bot: Bot = data["bot"]
            if chat is not None:
                await bot.send_message(chat.id, _("You are sending messages very fast. Please wait a moment."))
        logger.info("flood: update dropped outside a collecting step")
        return None
