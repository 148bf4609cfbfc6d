"""Helpers for the tip triage tests (no tests here): dated tips, follow-up reporters, the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from bot.context import AppContext
from bot.outbox import Outbox
from storage.domain import Anonymity
from storage.models import Tip, TipMessage, utcnow
from storage.reporters import get_or_create_reporter, set_reporter_chat
from tests.admin_api.conftest import make_tip


async def dated_tip(context: AppContext, created_at: datetime, **kwargs: Any) -> Tip:
    """A tip with a chosen creation time."""
    tip, _code = await make_tip(context, **kwargs)
    async with context.sessions() as session:
        await session.execute(update(Tip).where(Tip.id == tip.id).values(created_at=created_at, updated_at=created_at))
        await session.commit()
    tip.created_at = created_at
    return tip


async def follow_up_tip(
    context: AppContext, chat_id: int, *, anonymity: Anonymity = Anonymity.FOLLOW_UP, locale: str = "vi", **kwargs: Any
) -> tuple[Tip, str]:
    """A tip whose reporter allowed follow-up: a reporter row with the chat sealed as the bot stores it."""
    tip, code = await make_tip(context, anonymity=anonymity, locale=locale, **kwargs)
    async with context.sessions() as session:
        # The same person as a citizen who already talked to the bot, if one did.
        reporter = await get_or_create_reporter(session, key_hash=context.keys.reporter_hash(chat_id), locale=locale)
        chat_enc = context.keys.encrypt_text(str(chat_id), purpose="chat")
        await session.run_sync(set_reporter_chat, reporter_id=reporter.id, chat_enc=chat_enc)
        await session.execute(update(Tip).where(Tip.id == tip.id).values(reporter_id=reporter.id))
        await session.commit()
        tip.reporter_id = reporter.id
    return tip, code


async def thread(context: AppContext, tip_id: int) -> list[TipMessage]:
    """A tip's thread rows, oldest first."""
    async with context.sessions() as session:
        stmt = select(TipMessage).where(TipMessage.tip_id == tip_id).order_by(TipMessage.id)
        return list((await session.scalars(stmt)).all())


async def deliver(context: AppContext) -> int:
    """Run one outbox round, as the worker would."""
    return await Outbox(context).deliver_pending()


def days_ago(days: float) -> datetime:
    """A moment in the past."""
    return utcnow() - timedelta(days=days)


async def get_json(api: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    """GET that must succeed."""
    response = await api.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()
