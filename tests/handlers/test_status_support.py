"""Helpers for the /status tests: tips made directly in storage, thread rows, FSM access."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from storage.domain import Anonymity, Category, MessageAuthor, MessageKind, Outcome, TipStatus, WhenKind
from storage.models import Attachment, Tip, TipMessage
from storage.tips import NewTip, create_tip
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot

CODE = "7QK2-M9XD-40NP-R3TW"
HANOI = 1


async def make_tip(
    bot: RunningBot,
    code: str = CODE,
    *,
    status: TipStatus = TipStatus.NEW,
    outcome: Outcome | None = None,
    category: Category = Category.FRAUD,
) -> int:
    """A tip with a known receipt code, written straight to storage."""
    keys = bot.context.keys
    async with bot.sessions() as session:
        tip = await create_tip(
            session,
            tip=NewTip(
                category=category,
                urgent=False,
                province_code=HANOI,
                ward_code=None,
                when_kind=WhenKind.TODAY,
                description="Có người lạ bán hàng giả ở chợ.",
                anonymity=Anonymity.ANONYMOUS,
            ),
            reporter_id=None,
            receipt_hash=keys.receipt_hash(code),
            keys=keys,
        )
        tip.status = status
        tip.outcome = outcome
        await session.commit()
        return tip.id


async def set_status(bot: RunningBot, tip_id: int, status: TipStatus, outcome: Outcome | None = None) -> None:
    """Change a tip's status as an officer would."""
    async with bot.sessions() as session:
        tip = await session.get(Tip, tip_id)
        assert tip is not None
        tip.status = status
        tip.outcome = outcome
        await session.commit()


async def add_officer_row(bot: RunningBot, tip_id: int, body: str, kind: MessageKind = MessageKind.MESSAGE) -> None:
    """An officer's reply (MESSAGE) or internal note (NOTE)."""
    async with bot.sessions() as session:
        session.add(TipMessage(tip_id=tip_id, author=MessageAuthor.OFFICER, kind=kind, body=body))
        await session.commit()


async def tipster_rows(bot: RunningBot, tip_id: int) -> list[TipMessage]:
    """What the tipster added to a tip."""
    async with bot.sessions() as session:
        stmt = (
            select(TipMessage)
            .where(TipMessage.tip_id == tip_id, TipMessage.author == MessageAuthor.TIPSTER)
            .order_by(TipMessage.id)
        )
        return list((await session.scalars(stmt)).all())


async def attachments_of(bot: RunningBot, tip_id: int) -> list[Attachment]:
    """Files linked to a tip."""
    async with bot.sessions() as session:
        return list((await session.scalars(select(Attachment).where(Attachment.tip_id == tip_id))).all())


async def count_tipster_rows(bot: RunningBot, tip_id: int) -> int:
    """How many additions a tip has."""
    async with bot.sessions() as session:
        stmt = select(func.count()).where(TipMessage.tip_id == tip_id, TipMessage.author == MessageAuthor.TIPSTER)
        return int(await session.scalar(stmt) or 0)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until `check` holds (polling the database, not sleeping blindly)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def open_view(citizen: Citizen, typed: str = CODE) -> list[BotMessage]:
    """/status, then the code: the view messages."""
    await citizen.send("/status")
    return await citizen.send(typed)


def fsm_key(bot: RunningBot, citizen: Citizen) -> StorageKey:
    """The FSM key of a private chat with the citizen."""
    return StorageKey(bot_id=bot.context.bot.id, chat_id=citizen.user_id, user_id=citizen.user_id)


async def fsm_state(bot: RunningBot, citizen: Citizen) -> tuple[str | None, dict[str, Any]]:
    """The citizen's conversation state and data."""
    storage = bot.context.dispatcher.storage
    key = fsm_key(bot, citizen)
    return await storage.get_state(key), await storage.get_data(key)


async def age_view(bot: RunningBot, citizen: Citizen, opened_at: datetime) -> None:
    """Pretend the open view was opened at `opened_at`."""
    storage = bot.context.dispatcher.storage
    key = fsm_key(bot, citizen)
    data = await storage.get_data(key)
    data["opened_at"] = opened_at.isoformat()
    await storage.set_data(key, data)


def texts(messages: list[BotMessage]) -> str:
    """All message texts joined, for containment checks."""
    return "\n".join(m.text for m in messages)
