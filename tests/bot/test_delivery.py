"""Telegram-side trouble: duplicate deliveries, 429 rate limits and 5xx errors."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import ProcessedUpdate
from tests.conftest import RunningBot, WebhookBot


async def test_same_update_twice_is_handled_once_polling(bot: RunningBot) -> None:
    citizen = bot.citizen()
    sent = await bot.client.send_text(citizen.user, "/help")
    await citizen.replies()
    await bot.client.redeliver(sent["update_id"])
    assert await citizen.replies(expect=False, quiet=0.8) == []
    assert len(await bot.client.requests("sendMessage")) == 1
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_same_update_twice_is_handled_once_webhook(webhook_bot: WebhookBot) -> None:
    citizen = webhook_bot.citizen()
    sent = await webhook_bot.client.send_text(citizen.user, "/help")
    await citizen.replies()
    await webhook_bot.client.redeliver(sent["update_id"])
    assert await citizen.replies(expect=False, quiet=0.8) == []
    assert len(await webhook_bot.client.requests("sendMessage")) == 1


async def test_server_errors_are_retried(bot: RunningBot) -> None:
    citizen = bot.citizen()
    await bot.client.set_behaviour(fail_next={"method": "sendMessage", "count": 2, "status": 502})
    [welcome] = await citizen.send("/start")
    assert "TinBáo" in welcome.text
    statuses = [r["status"] for r in await bot.client.requests("sendMessage")]
    assert statuses == [502, 502, 200]


async def test_rate_limit_429_is_waited_out_and_nothing_is_lost(bot: RunningBot) -> None:
    citizen = bot.citizen()
    await bot.client.set_behaviour(limits_enabled=True, per_chat_rate=1, per_chat_burst=1)
    for _ in range(3):
        await bot.client.send_text(citizen.user, "/help")
    replies = []
    while len(replies) < 3:
        replies += await citizen.replies(timeout=10)
    assert len(replies) == 3
    stats = await bot.client.stats()
    assert stats["too_many_requests"] >= 1
    assert [r["status"] for r in await bot.client.requests("sendMessage")].count(200) == 3
