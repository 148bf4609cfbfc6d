"""Switchable Telegram behaviour: flood control, blocked users, injected failures, redelivery, stale buttons."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter, TelegramServerError
from aiogram.types import InaccessibleMessage, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.client import SandboxClient, SandboxError, SandboxUser


async def test_per_chat_rate_limit_gives_429_and_recovers(
    bot: Bot, client: SandboxClient, citizen: SandboxUser
) -> None:
    await client.send_text(citizen, "hi")
    await client.set_behaviour(limits_enabled=True, per_chat_rate=2, per_chat_burst=2)
    await bot.send_message(citizen.id, "1")
    await bot.send_message(citizen.id, "2")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(citizen.id, "3")
    assert caught.value.retry_after >= 1
    assert "Too Many Requests: retry after" in caught.value.message
    await asyncio.sleep(0.55)  # one token refills in 0.5 s at 2/s
    await bot.send_message(citizen.id, "3 again")
    stats = await client.stats()
    assert stats["too_many_requests"] == 1 and stats["sends_per_chat"][str(citizen.id)] == 3


async def test_global_rate_limit_counts_media_group_items(
    bot: Bot, client: SandboxClient, citizen: SandboxUser
) -> None:
    await client.send_text(citizen, "hi")
    await client.set_behaviour(limits_enabled=True, global_rate=3, per_chat_rate=100, per_chat_burst=100)
    await bot.send_message(citizen.id, "1")
    await bot.send_message(citizen.id, "2")
    await bot.send_message(citizen.id, "3")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(citizen.id, "4")
    # Non-sending methods are never limited.
    assert (await bot.get_me()).id
    await client.set_behaviour(limits_enabled=False)
    await bot.send_message(citizen.id, "free again")


async def test_blocked_chat_is_forbidden(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_text(citizen, "hi")
    await client.set_behaviour(blocked_chats=[citizen.id])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(citizen.id, "are you there?")
    await client.set_behaviour(unblock_chats=[citizen.id])
    await bot.send_message(citizen.id, "welcome back")
    assert (await client.stats())["forbidden"] == 1


async def test_injected_failures_and_latency(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_text(citizen, "hi")
    await client.set_behaviour(fail_next={"method": "sendMessage", "count": 2, "status": 500})
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(citizen.id, "x")
    await bot.send_message(citizen.id, "works")
    await client.set_behaviour(fail_next={"method": None, "count": 1, "status": 502}, latency_ms=50)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.05
    statuses = [r["status"] for r in await client.requests("sendMessage")]
    assert statuses == [500, 500, 200]
    logged = (await client.requests("sendMessage"))[-1]
    assert logged["params"]["text"] == "works" and logged["method"] == "sendMessage"


async def test_redeliver_sends_same_update_id_twice(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    first = await client.send_text(citizen, "tin báo")
    second = await client.send_text(citizen, "thêm")
    updates = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    await client.redeliver(first["update_id"])
    again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert [u.update_id for u in again] == [first["update_id"]]
    assert again[0].message is not None and again[0].message.text == "tin báo"
    # aiogram then confirms with offset = redelivered id + 1; newer confirmed updates must not come back.
    assert await bot.get_updates(offset=first["update_id"] + 1, timeout=0) == []
    assert second["update_id"] == first["update_id"] + 1
    with pytest.raises(SandboxError):
        await client.redeliver(999)


async def test_stale_callback_rejected_unless_forced(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_text(citizen, "hi")
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Có", callback_data="yes")]])
    sent = await bot.send_message(citizen.id, "Xác nhận?", reply_markup=markup)
    with pytest.raises(SandboxError, match="no button"):
        await client.press(citizen, sent.message_id, "other")
    await bot.edit_message_reply_markup(chat_id=citizen.id, message_id=sent.message_id)
    with pytest.raises(SandboxError):
        await client.press(citizen, sent.message_id, "yes")
    await bot.delete_message(citizen.id, sent.message_id)
    with pytest.raises(SandboxError, match="not found"):
        await client.press(citizen, sent.message_id, "yes")
    await client.press(citizen, sent.message_id, "yes", force=True)
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.data == "yes" and query.message is not None
    # Telegram sends an InaccessibleMessage for messages the bot can no longer see.
    assert isinstance(query.message, InaccessibleMessage)


async def test_reset_and_default_world(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    async with SandboxClient(client.base_url, "default") as default:
        with pytest.raises(SandboxError) as missing:
            await default.stats()
        assert missing.value.status == 404
        await client.send_text(citizen, "hi")
        assert (await default.messages(citizen.id, include_user=True))[0]["text"] == "hi"
        await default.reset()
        assert await client.messages(citizen.id, include_user=True) == []
        update = await client.send_text(citizen, "after reset")
        # update_ids keep increasing across resets so a running bot's offset stays valid.
        assert update["update_id"] == 2
