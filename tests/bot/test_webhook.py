"""Webhook intake: the secret header is required, malformed bodies are refused, updates are handled."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from storage.models import ProcessedUpdate
from tests.conftest import WEBHOOK_SECRET, WebhookBot

START_UPDATE = {
    "update_id": 777001,
    "message": {
        "message_id": 1,
        "date": 1760000000,
        "chat": {"id": 555, "type": "private", "first_name": "Test"},
        "from": {"id": 555, "is_bot": False, "first_name": "Test", "language_code": "vi"},
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


async def _processed(bot: WebhookBot) -> int:
    async with bot.context.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


async def test_updates_arrive_through_the_webhook(webhook_bot: WebhookBot) -> None:
    citizen = webhook_bot.citizen()
    [welcome] = await citizen.send("/start")
    assert "TinBáo" in welcome.text
    stats = await webhook_bot.client.stats()
    assert stats["webhook_delivered"] >= 1
    assert await _processed(webhook_bot) == 1


async def test_wrong_or_missing_secret_is_rejected_and_nothing_processed(webhook_bot: WebhookBot) -> None:
    async with httpx.AsyncClient() as http:
        wrong = await http.post(
            webhook_bot.url, json=START_UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-123456"}
        )
        missing = await http.post(webhook_bot.url, json=START_UPDATE)
        almost = await http.post(
            webhook_bot.url, json=START_UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET[:-1]}
        )
    assert wrong.status_code == missing.status_code == almost.status_code == 401
    assert await _processed(webhook_bot) == 0
    assert await webhook_bot.client.requests("sendMessage") == []


async def test_malformed_body_is_refused(webhook_bot: WebhookBot) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with httpx.AsyncClient() as http:
        not_json = await http.post(
            webhook_bot.url, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        not_update = await http.post(webhook_bot.url, json={"hello": "world"}, headers=headers)
    assert not_json.status_code == 400
    assert not_update.status_code == 400
    assert not_json.json() == {"detail": "not an update"}
    assert await _processed(webhook_bot) == 0


async def test_oversized_body_and_other_methods_are_refused(webhook_bot: WebhookBot) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with httpx.AsyncClient() as http:
        huge = await http.post(webhook_bot.url, content=b"x" * 1_100_000, headers=headers)
        fetched = await http.get(webhook_bot.url, headers=headers)
    assert huge.status_code == 413
    assert fetched.status_code == 405
    assert fetched.headers["allow"] == "POST"
    assert await _processed(webhook_bot) == 0


async def test_healthz(webhook_bot: WebhookBot) -> None:
    base = webhook_bot.url.rsplit("/telegram", 1)[0]
    async with httpx.AsyncClient() as http:
        answer = await http.get(base + "/healthz")
    assert answer.json() == {"status": "ok"}


async def test_a_button_answer_rides_on_the_webhook_response(webhook_bot: WebhookBot) -> None:
    citizen = webhook_bot.citizen()
    [question] = [m for m in await citizen.send("/report") if m.buttons]
    group_data = next(data for _label, data in question.buttons if data.startswith("rp:grp:"))
    await citizen.press_data(question.message_id, group_data, expect=False)
    categories = await citizen.refresh(question)  # the question turns into the category question
    assert any(data.startswith("rp:cat:") for _label, data in categories.buttons)
    answers: list[dict[str, object]] = []
    for _attempt in range(50):  # the emulator performs a webhook answer just after the HTTP exchange
        answers = await webhook_bot.client.requests("answerCallbackQuery")
        if answers:
            break
        await asyncio.sleep(0.05)
    assert [a["via"] for a in answers] == ["webhook_response"]
    assert answers[0]["status"] == 200
    # Calls whose result the bot needs still go out as requests of their own.
    edits = await webhook_bot.client.requests("editMessageText")
    assert edits and {e["via"] for e in edits} == {"http"}
