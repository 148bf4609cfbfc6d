"""Helpers for the tip-form tests: walk a citizen through the form step by step (no tests here)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.config import Settings
from storage.models import Attachment, Tip
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tests walk the form faster than any person; the flood guard is tested on its own."""
    return settings.model_copy(update={"flood_max_updates": 200})


QUIET = 0.15  # the bot answers each step in one burst; no need to wait long for more
RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")


async def tap(c: Citizen, data: str, *, expect: bool = True) -> list[BotMessage]:
    """Press the button with this callback data on the newest message that has it now (edits included)."""
    for message in reversed(c.seen[-8:]):
        fresh = await c.refresh(message)
        if any(d == data for _label, d in fresh.buttons):
            return await c.press_data(fresh.message_id, data, expect=expect, quiet=QUIET)
    raise AssertionError(f"no button {data!r} on recent messages")


def texts(messages: list[BotMessage]) -> str:
    """All texts of some bot messages, joined."""
    return "\n".join(m.text for m in messages)


async def to_danger(c: Citizen) -> None:
    """Start /report and pick "drugs"."""
    await c.send("/report", quiet=QUIET)
    await tap(c, "rp:grp:social_evils", expect=False)
    await tap(c, "rp:cat:drugs")


async def to_province(c: Citizen, *, urgent: bool = False) -> list[BotMessage]:
    """Through the danger question."""
    await to_danger(c)
    return await tap(c, "rp:danger:yes" if urgent else "rp:danger:no")


async def choose_hanoi(c: Citizen) -> list[BotMessage]:
    """Type the province name and press it."""
    found = await c.send("ha noi", quiet=QUIET)
    return await c.press_data(found[-1].message_id, found[-1].button("Hà Nội"), quiet=QUIET)


async def to_place_detail(c: Citizen) -> None:
    """Province Hà Nội, commune Hoàn Kiếm."""
    await to_province(c)
    await choose_hanoi(c)
    found = await c.send("hoan kiem", quiet=QUIET)
    await c.press_data(found[-1].message_id, found[-1].button("Hoàn Kiếm"), quiet=QUIET)


async def to_when(c: Citizen) -> None:
    """Skip place detail and pin."""
    await to_place_detail(c)
    await tap(c, "rp:place:skip")
    await c.send("⏭ Bỏ qua" if c.language_code == "vi" else "⏭ Skip", quiet=QUIET)


async def to_description(c: Citizen) -> None:
    """Answer "today"."""
    await to_when(c)
    await tap(c, "rp:when:today")


async def to_evidence(c: Citizen, story: str = "Có người bán ma túy ở đầu ngõ mỗi tối.") -> None:
    """Type the story and continue."""
    await to_description(c)
    await c.send(story, quiet=QUIET)
    await tap(c, "rp:desc:done")


async def to_anonymity(c: Citizen, *, photo: bool = True) -> None:
    """Send a photo (or skip) and continue."""
    await to_evidence(c)
    if photo:
        await c.client.send_photo(c.user)
        await c.replies(quiet=QUIET)
        await tap(c, "rp:ev:done")
    else:
        await tap(c, "rp:ev:skip")


async def to_summary(c: Citizen, level: str = "follow_up", *, photo: bool = True) -> list[BotMessage]:
    """Choose a privacy level (not identified) and reach the summary."""
    await to_anonymity(c, photo=photo)
    return await tap(c, f"rp:anon:{level}")


async def send_and_get_code(c: Citizen) -> str:
    """Press Send and read the receipt code."""
    replies = await tap(c, "rp:send")
    match = RECEIPT.search(texts(replies))
    assert match, texts(replies)
    return match.group(0)


async def all_tips(bot: RunningBot) -> list[Tip]:
    """Every tip in the database."""
    async with bot.sessions() as session:
        return list((await session.scalars(select(Tip))).all())


async def attachments(bot: RunningBot) -> list[Attachment]:
    """Every attachment in the database."""
    async with bot.sessions() as session:
        return list((await session.scalars(select(Attachment).order_by(Attachment.id))).all())
