"""POST /api/v1/tips/{id}/replies and the outbox: delivered, blocked, failed, status-only, escaped, nameless."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from admin_api.app import create_app
from bot.context import AppContext
from bot.outbox import Outbox
from storage.domain import DeliveryState
from tests.admin_api.conftest import HA_NOI, make_officer, make_tip
from tests.admin_api.test_tips_support import deliver, follow_up_tip, get_json, thread
from tests.conftest import RunningBot

URL = "/api/v1/tips"
CITIZEN = 100000001


async def reply(api: httpx.AsyncClient, headers: dict[str, str], tip_id: int, body: str) -> httpx.Response:
    """POST a reply."""
    return await api.post(f"{URL}/{tip_id}/replies", headers=headers, json={"body": body})


async def test_reply_is_stored_then_delivered_escaped(bot: RunningBot, api: httpx.AsyncClient) -> None:
    citizen = bot.citizen(user_id=CITIZEN)
    await citizen.send("/start")
    officer = await make_officer(bot.context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await follow_up_tip(bot.context, CITIZEN)
    posted = await reply(api, officer.headers, tip.id, "Xe <b>màu gì</b> & biển số?")
    assert posted.status_code == 201, posted.text
    answer = posted.json()
    assert answer["delivery_state"] == "queued" and answer["author"] == "officer"
    assert answer["officer_username"] == "hn_officer"
    assert await deliver(bot.context) == 1
    [message] = await citizen.replies()
    assert message.text.startswith("📩 Tin nhắn từ Công an về tin báo của bạn:")
    assert "Xe <b>màu gì</b> & biển số?" in message.text  # shown literally: the body was escaped
    assert "/status" in message.text and "hn_officer" not in message.text
    sent = (await bot.client.requests("sendMessage"))[-1]
    assert "&lt;b&gt;" in str(sent)
    detail = await get_json(api, f"{URL}/{tip.id}", officer.headers)
    assert detail["messages"][-1]["delivery_state"] == "delivered"
    assert await deliver(bot.context) == 0  # sent once only


async def test_blocked_failed_and_anonymous(bot: RunningBot, api: httpx.AsyncClient) -> None:
    citizen = bot.citizen(user_id=CITIZEN)
    await citizen.send("/start")
    await bot.client.set_behaviour(blocked_chats=[CITIZEN])
    officer = await make_officer(bot.context, "hn_officer", provinces=(HA_NOI,))
    blocked, _ = await follow_up_tip(bot.context, CITIZEN)
    unknown, _ = await follow_up_tip(bot.context, 777000777)  # a chat the bot never saw: 400 chat not found
    anonymous, _ = await make_tip(bot.context)
    for tip in (blocked, unknown, anonymous):
        assert (await reply(api, officer.headers, tip.id, "Cảm ơn, cho hỏi thêm?")).status_code == 201
    assert await deliver(bot.context) == 2
    assert [m.delivery_state for m in await thread(bot.context, blocked.id)] == [DeliveryState.BLOCKED]
    assert [m.delivery_state for m in await thread(bot.context, unknown.id)] == [DeliveryState.FAILED]
    assert [m.delivery_state for m in await thread(bot.context, anonymous.id)] == [DeliveryState.STATUS_ONLY]
    assert await citizen.replies(expect=False) == []


async def test_closed_tip_refuses_replies(api: httpx.AsyncClient, app_context: AppContext) -> None:
    officer = await make_officer(app_context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await make_tip(app_context)
    closing = {"status": "closed", "outcome": "spam"}
    assert (await api.patch(f"{URL}/{tip.id}", headers=officer.headers, json=closing)).status_code == 200
    assert (await reply(api, officer.headers, tip.id, "Còn đó không?")).status_code == 409
    assert await thread(app_context, tip.id) == []


@pytest.mark.parametrize("language", ["en"])
async def test_worker_wakes_on_queue_and_speaks_the_tip_language(bot: RunningBot, language: str) -> None:
    citizen = bot.citizen(user_id=CITIZEN, language_code=language)
    await citizen.send("/start")
    officer = await make_officer(bot.context, "hn_officer", provinces=(HA_NOI,))
    tip, _ = await follow_up_tip(bot.context, CITIZEN, locale=language)
    outbox = Outbox(bot.context, poll_seconds=60)  # only a wake-up can make it send within the test
    app = create_app(bot.context)
    app.state.outbox = outbox  # as `tinbao run` wires it
    outbox.start()
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    try:
        await asyncio.sleep(0.1)  # let the first (empty) round pass, so the send below needs the wake-up
        closing = {"status": "needs_info"}
        assert (await api.patch(f"{URL}/{tip.id}", headers=officer.headers, json=closing)).status_code == 200
        [notice] = await citizen.replies()
        assert notice.text == "The police have a question about your tip. Use /status and your receipt code to see it."
    finally:
        await api.aclose()
        await outbox.stop()
