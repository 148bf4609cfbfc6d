"""Acceptance 3: a tip's life end to end through the emulator, at each anonymity level.

A citizen sends a tip with the real /report form; an officer finds it, asks a question (needs_info and a
reply); the citizen answers from /status; the tip is back in review; the officer closes it as valuable.
The citizen gets what their level promises and nothing more, and no bot message ever names an officer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from admin_api.app import create_app
from bot.outbox import Outbox
from storage.audit import tip_audit_trail
from storage.domain import Anonymity, DeliveryState, MessageAuthor, OfficerRole, TipStatus
from storage.models import Tip, TipMessage
from tests.admin_api.conftest import HA_NOI, make_officer
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot
from tests.handlers.test_report_support import (
    QUIET,
    send_and_get_code,
    settings,  # noqa: F401 - relaxed flood limit: the form is walked faster than any person types
    tap,
    texts,
    to_anonymity,
    to_summary,
)

URL = "/api/v1/tips"
OFFICER_NAME = "dai_uy_tuan"
QUESTION = "Người bán thường đứng ở đâu, mặc áo màu gì?"
ANSWER = "Đứng cạnh cột điện, áo khoác xanh."
NOTICE_QUESTION = "Công an có câu hỏi về tin báo của bạn. Hãy dùng /status và mã tra cứu để xem."
NOTICE_CLOSED = "Tin báo của bạn đã được xử lý xong. Xem /status.\nCảm ơn bạn: thông tin của bạn có giá trị."


@pytest.fixture
async def api(bot: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    """The officer API on the bot's own context (same database and sandbox)."""
    transport = httpx.ASGITransport(app=create_app(bot.context))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def submit(c: Citizen, level: Anonymity) -> str:
    """Walk the real /report form at this privacy level; returns the receipt code."""
    if level is Anonymity.IDENTIFIED:
        await to_anonymity(c)
        await tap(c, "rp:anon:identified")
        await c.client.send_contact(c.user, phone="+84901234567", first_name="Nguyễn Văn", last_name="Bình")
        await c.replies(quiet=QUIET)
        await c.send("Anh Bình", quiet=QUIET)
    else:
        await to_summary(c, level.value)
    return await send_and_get_code(c)


async def pushed(bot: RunningBot, outbox: Outbox, c: Citizen) -> list[BotMessage]:
    """Run the outbox, then collect what reached the citizen without them asking."""
    await outbox.deliver_pending()
    return await c.replies(expect=False, quiet=0.3)


async def answer_from_status(c: Citizen, code: str) -> str:
    """/status with the code, read the view, add one answer, finish; returns the view's text."""
    await c.send("/status", quiet=QUIET)
    view = texts(await c.send(code, quiet=QUIET))
    await c.press("Bổ sung thông tin", quiet=QUIET)
    [ack] = await c.send(ANSWER, quiet=QUIET)
    assert ack.text.startswith("Đã thêm vào tin báo của bạn")
    await c.press("Xong", quiet=QUIET)
    return view


async def tip_state(bot: RunningBot, tip_id: int) -> tuple[TipStatus, list[TipMessage]]:
    """The tip's status and thread as stored."""
    async with bot.sessions() as session:
        tip = await session.get(Tip, tip_id)
        assert tip is not None
        rows = (await session.scalars(select(TipMessage).where(TipMessage.tip_id == tip_id))).all()
        return tip.status, list(rows)


@pytest.mark.parametrize("level", list(Anonymity))
async def test_tip_life(bot: RunningBot, api: httpx.AsyncClient, level: Anonymity) -> None:
    citizen = bot.citizen(user_id=100000101)
    officer = await make_officer(bot.context, OFFICER_NAME, provinces=(HA_NOI,))
    outbox = Outbox(bot.context)
    code = await submit(citizen, level)

    # The officer finds the tip in the list: an alias at most, never the account.
    listed = (await api.get(URL, headers=officer.headers, params={"status": "new"})).json()
    [item] = listed["items"]
    assert item["anonymity"] == level.value
    assert (item["reporter_alias"] is None) == (level is Anonymity.ANONYMOUS)
    assert str(citizen.user_id) not in str(listed) and "binh_test_user" not in str(listed)
    tip_id = item["id"]
    detail = (await api.get(f"{URL}/{tip_id}", headers=officer.headers)).json()
    assert detail["identified"] == (level is Anonymity.IDENTIFIED) and detail["identity"] is None

    # A question: needs_info plus a reply.
    asked = await api.patch(f"{URL}/{tip_id}", headers=officer.headers, json={"status": "needs_info"})
    assert asked.status_code == 200
    replied = await api.post(f"{URL}/{tip_id}/replies", headers=officer.headers, json={"body": QUESTION})
    follows = level is not Anonymity.ANONYMOUS
    assert replied.json()["delivery_state"] == ("queued" if follows else "status_only")
    first_push = await pushed(bot, outbox, citizen)
    if follows:
        notice, question = first_push
        assert notice.text == NOTICE_QUESTION
        assert QUESTION in question.text and question.text.startswith("📩 Tin nhắn từ Công an")
    else:
        assert first_push == []

    # The citizen answers from /status; the tip goes back to the officers.
    view = await answer_from_status(citizen, code)
    assert QUESTION in view and "Cán bộ có câu hỏi cho bạn" in view
    status, rows = await tip_state(bot, tip_id)
    assert status is TipStatus.IN_REVIEW
    assert [r.body for r in rows if r.author is MessageAuthor.TIPSTER] == [ANSWER]
    listed = (await api.get(URL, headers=officer.headers)).json()
    assert listed["items"][0]["status"] == "in_review" and listed["items"][0]["unread_messages"] == 1
    async with bot.sessions() as session:
        trail = await tip_audit_trail(session, tip_id=tip_id)
    assert ("tipster_replied", None) in [(e.action, e.officer_id) for e in trail]

    # Closed as valuable: a thank-you for those who allowed follow-up, the status line for everyone.
    closing = {"status": "closed", "outcome": "valuable"}
    assert (await api.patch(f"{URL}/{tip_id}", headers=officer.headers, json=closing)).status_code == 200
    last_push = await pushed(bot, outbox, citizen)
    assert [m.text for m in last_push] == ([NOTICE_CLOSED] if follows else [])
    await citizen.send("/status", quiet=QUIET)
    final_view = texts(await citizen.send(code, quiet=QUIET))
    assert "thông tin của bạn có giá trị" in final_view and QUESTION in final_view and ANSWER in final_view

    # Nothing more: every outgoing message was delivered or status-only, and no officer is ever named.
    _status, rows = await tip_state(bot, tip_id)
    states = {r.delivery_state for r in rows if r.author is not MessageAuthor.TIPSTER}
    assert states == ({DeliveryState.DELIVERED} if follows else {DeliveryState.STATUS_ONLY})
    everything = await citizen.all_messages()
    assert all(OFFICER_NAME not in m.text for m in everything)
    pushed_texts = [m.text for m in first_push + last_push]
    assert len(pushed_texts) == (3 if follows else 0)


async def test_supervisor_sees_the_identified_tipster(bot: RunningBot, api: httpx.AsyncClient) -> None:
    citizen = bot.citizen(user_id=100000102)
    await submit(citizen, Anonymity.IDENTIFIED)
    chief = await make_officer(bot.context, "chief", role=OfficerRole.SUPERVISOR, provinces=(HA_NOI,))
    [item] = (await api.get(URL, headers=chief.headers)).json()["items"]
    detail = (await api.get(f"{URL}/{item['id']}", headers=chief.headers)).json()
    assert detail["identity"] == {"name": "Anh Bình", "phone": "+84901234567"}
