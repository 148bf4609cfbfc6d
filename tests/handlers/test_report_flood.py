"""A story sent as a flood of messages is stored whole, in order, with few replies."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.config import Settings
from handlers.report_draft import description
from tests.conftest import RunningBot
from tests.handlers.test_report_support import QUIET, tap, to_description

FLOOD_MAX = 16


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A guard the scripted walk (about a dozen updates) never trips, but 50 messages do.

    The window is long enough that the whole flood falls inside it even on a slow machine, so the number
    of replies does not depend on timing.
    """
    return settings.model_copy(update={"flood_max_updates": FLOOD_MAX, "flood_window_seconds": 10.0})


async def draft_of(bot: RunningBot, user_id: int) -> dict[str, object]:
    """The citizen's FSM data, read through the dispatcher's storage."""
    key = StorageKey(bot_id=bot.context.bot.id, chat_id=user_id, user_id=user_id)
    return dict(await bot.context.dispatcher.storage.get_data(key))


async def test_fifty_messages_in_two_seconds(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_description(c)
    assert "5️⃣" in c.seen[-1].text
    before = c.cursor
    parts = [f"phần {i:02d}" for i in range(1, 51)]
    started = time.monotonic()
    for part in parts:
        await c.client.send_text(c.user, part)
    assert time.monotonic() - started < 2.5
    deadline = time.monotonic() + 20
    while True:
        draft = await draft_of(bot, c.user_id)
        if len(draft.get("parts", [])) == 50 or time.monotonic() > deadline:  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.2)
    assert description(draft) == "\n".join(parts)
    replies = await c.replies(expect=False, quiet=0.5)
    assert all(m.message_id > before for m in replies)
    # Replies only until the guard trips, then at most the limit notices: far fewer than 50.
    assert len(replies) <= FLOOD_MAX + 2
    nxt = await tap(c, "rp:desc:done")
    assert "6️⃣" in nxt[-1].text
    await c.settle(QUIET)
