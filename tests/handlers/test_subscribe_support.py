"""Helpers for the outreach flow tests (/subscribe, /pledge, /feedback, /info); no tests here."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.areas import list_provinces, search_wards
from storage.models import Feedback, Pledge, PledgeText, Subscriber
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot
from tests.handlers.test_report_support import QUIET, tap, texts

__all__ = ["QUIET", "tap", "texts"]


async def sticker(c: Citizen) -> list[BotMessage]:
    """Send a sticker and return the bot's answer."""
    sent = await c.client.send_sticker(c.user)
    return await c.replies(update_id=sent["update_id"], quiet=QUIET)


async def photo(c: Citizen) -> list[BotMessage]:
    """Send a photo and return the bot's answer."""
    sent = await c.client.send_photo(c.user)
    return await c.replies(update_id=sent["update_id"], quiet=QUIET)


async def last_answer(c: Citizen) -> str:
    """The text of the bot's newest answerCallbackQuery."""
    answers = await c.client.callback_answers()
    return str(answers[-1].get("text", "")) if answers else ""


async def choose_province(c: Citizen, typed: str = "ha noi", label: str = "Hà Nội") -> list[BotMessage]:
    """Type a province name and press the match."""
    found = await c.send(typed, quiet=QUIET)
    return await c.press_data(found[-1].message_id, found[-1].button(label), quiet=QUIET)


async def choose_ward(c: Citizen, typed: str = "hoan kiem", label: str = "Hoàn Kiếm") -> list[BotMessage]:
    """Search a commune and press the match."""
    found = await c.send(typed, quiet=QUIET)
    return await c.press_data(found[-1].message_id, found[-1].button(label), quiet=QUIET)


async def area_codes(bot: RunningBot, province: str = "Hà Nội", ward: str = "hoan kiem") -> tuple[int, int]:
    """(province code, ward code) of a test area."""
    async with bot.sessions() as session:
        province_code = next(p.code for p in await list_provinces(session) if province in p.name)
        [found, *_rest] = await search_wards(session, province_code=province_code, query=ward, limit=1)
        return province_code, found.code


async def rows(bot: RunningBot, model: Any) -> list[Any]:
    """Every row of a model, oldest first."""
    async with bot.sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def subscribers(bot: RunningBot) -> list[Subscriber]:
    """Every subscriber row."""
    return await rows(bot, Subscriber)


async def pledges(bot: RunningBot) -> list[Pledge]:
    """Every pledge row."""
    return await rows(bot, Pledge)


async def feedback_rows(bot: RunningBot) -> list[Feedback]:
    """Every feedback row."""
    return await rows(bot, Feedback)


async def ensure_seeded_pledge_texts(bot: RunningBot) -> None:
    """The migration's national v1 pledge texts (the PostgreSQL run truncates every non-area table per test)."""
    async with bot.sessions() as session:
        if await session.scalar(select(func.count()).select_from(PledgeText)):
            return
        path = Path(__file__).parents[2] / "storage" / "migrations" / "versions" / "0004_outreach.py"
        spec = importlib.util.spec_from_file_location("outreach_migration", path)
        assert spec is not None and spec.loader is not None
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        for kind, signer in migration.SIGNERS.items():
            session.add(PledgeText(version=1, signer_kind=kind, body=migration.PLEDGE_TEXT.format(signer=signer)))
        await session.commit()
