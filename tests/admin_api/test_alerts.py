"""Urgent alerts: linking Telegram with a one-time code, and content-free alerts to the right officers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from admin_api.app import create_app
from bot.alerts import AlertLoop
from storage.alerts import issue_link_code
from storage.domain import Category, OfficerRole
from storage.models import AuditEvent, Officer, Tip, utcnow
from storage.officers import update_officer
from tests.admin_api.conftest import HA_NOI, HCM, ApiOfficer, make_officer, make_tip
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot

LINK = "/api/v1/auth/telegram-link"
ME = "/api/v1/auth/me"
SECRET_WORDS = "Kho hàng bí mật số 17 phố Hàng Bạc"


@pytest.fixture
async def api(bot: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    """The officer API on the polling bot's context."""
    transport = httpx.ASGITransport(app=create_app(bot.context))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def link(api: httpx.AsyncClient, bot: RunningBot, officer: ApiOfficer, user_id: int) -> Citizen:
    """The officer asks the API for a code and sends /link CODE from their Telegram account."""
    response = await api.post(LINK, headers=officer.headers)
    assert response.status_code == 200, response.text
    telegram = bot.citizen(user_id=user_id, language_code="en")
    [answer] = await telegram.send(f"/link {response.json()['code']}")
    assert answer.text == "Linked: you will receive content-free alerts for urgent tips."
    return telegram


async def new_alerts(telegram: Citizen) -> list[BotMessage]:
    """Alerts that reached this Telegram account since the last look (sends are done when run_once returns)."""
    return await telegram.replies(expect=False, quiet=0.05)


async def test_link_flow_through_the_bot(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """Code from the API, /link in the bot, linked flag in /me, chat sealed, audited; unlink works."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    assert (await api.get(ME, headers=officer.headers)).json()["telegram_linked"] is False
    created = (await api.post(LINK, headers=officer.headers)).json()
    assert len(created["code"]) == 8 and created["expires_at"]

    telegram = bot.citizen(user_id=555000111, language_code="vi")
    [answer] = await telegram.send(f"/link {created['code'].lower()}")
    assert "Đã liên kết" in answer.text

    assert (await api.get(ME, headers=officer.headers)).json()["telegram_linked"] is True
    async with bot.sessions() as session:
        row = await session.get(Officer, officer.id)
        assert row is not None and row.telegram_chat_enc is not None
        assert b"555000111" not in row.telegram_chat_enc
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.officer_id == officer.id))).all()
    assert {"telegram_link_code_issued", "telegram_linked"} <= set(actions)

    [reused] = await telegram.send(f"/link {created['code']}")
    assert "không dùng được" in reused.text
    assert (await api.delete(LINK, headers=officer.headers)).status_code == 204
    assert (await api.get(ME, headers=officer.headers)).json()["telegram_linked"] is False


async def test_wrong_expired_and_replaced_codes_get_one_polite_answer(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """Every failing code gets the same words; too many wrong tries are throttled."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    async with bot.sessions() as session:
        expired, _ = await issue_link_code(
            session, keys=bot.context.keys, officer_id=officer.id, now=utcnow() - timedelta(minutes=16)
        )
        await session.commit()
    replaced = (await api.post(LINK, headers=officer.headers)).json()["code"]
    current = (await api.post(LINK, headers=officer.headers)).json()["code"]
    telegram = bot.citizen(user_id=555000222, language_code="en")

    answers = [await telegram.reply(f"/link {code}") for code in ("ZZZZZZZZ", expired, replaced, "no")]
    assert len({a.text for a in answers[:3]}) == 1 and "does not work" in answers[0].text
    assert "/link ABCD1234" in answers[3].text  # not code-shaped: how to use it, no try counted
    assert "/link" in (await telegram.reply("/link")).text

    await telegram.reply("/link 00000000")
    await telegram.reply("/link 11111111")
    blocked = await telegram.reply(f"/link {current}")
    assert "Too many tries" in blocked.text
    assert (await api.get(ME, headers=officer.headers)).json()["telegram_linked"] is False


async def test_urgent_tip_alerts_only_linked_on_duty_officers_in_scope(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """In scope + on duty + linked get a content-free alert; restricted tips only with the permission."""
    hanoi = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    saigon = await make_officer(bot.context, "saigon", provinces=(HCM,))
    resting = await make_officer(bot.context, "resting", provinces=(HA_NOI,))
    cleared = await make_officer(bot.context, "cleared", role=OfficerRole.SUPERVISOR, nationwide=True, restricted=True)
    await make_officer(bot.context, "unlinked", provinces=(HA_NOI,))
    chats = {
        name: await link(api, bot, officer, 700000 + i)
        for i, (name, officer) in enumerate(
            [("hanoi", hanoi), ("saigon", saigon), ("resting", resting), ("cleared", cleared)]
        )
    }
    async with bot.sessions() as session:
        row = await session.get(Officer, resting.id)
        assert row is not None
        await update_officer(session, row, on_duty=False)
        await session.commit()
    await make_tip(bot.context, urgent=False)
    tip, _ = await make_tip(bot.context, urgent=True, description=SECRET_WORDS, place_detail="Số 17 Hàng Bạc")
    secret, _ = await make_tip(bot.context, urgent=True, category=Category.POLITICAL_SECURITY, description=SECRET_WORDS)

    assert await AlertLoop(bot.context).run_once() == 2

    got = {name: [m.text for m in await new_alerts(c)] for name, c in chats.items()}
    assert got["saigon"] == [] and got["resting"] == []
    assert got["hanoi"] == [f"🚨 Có tin báo khẩn mới {tip.ref} trên địa bàn của bạn. Hãy mở ứng dụng cán bộ."]
    assert sorted(got["cleared"]) == sorted(
        f"🚨 Có tin báo khẩn mới {ref} trên địa bàn của bạn. Hãy mở ứng dụng cán bộ." for ref in (tip.ref, secret.ref)
    )
    for text in got["hanoi"] + got["cleared"]:
        assert "Hàng Bạc" not in text and "17" not in text.replace(tip.ref, "").replace(secret.ref, "")
        assert "ma túy" not in text and "chính trị" not in text
    async with bot.sessions() as session:
        audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "urgent_alert_sent"))).all()
    assert sorted((a.tip_id, a.detail["officers"]) for a in audit) == sorted([(tip.id, 2), (secret.id, 1)])
    assert await AlertLoop(bot.context).run_once() == 0  # once per period


async def test_alert_repeats_after_the_ack_window_until_acknowledged(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """Overdue tips alert again once per window; a first response stops it."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    telegram = await link(api, bot, officer, 700100)
    tip, _ = await make_tip(bot.context, urgent=True)
    loop = AlertLoop(bot.context)
    window = timedelta(hours=bot.context.settings.urgent_ack_hours)
    start = tip.created_at

    assert await loop.run_once(now=start + timedelta(seconds=5)) == 1
    assert await loop.run_once(now=start + window - timedelta(minutes=1)) == 0
    assert await loop.run_once(now=start + window + timedelta(minutes=1)) == 1
    assert await loop.run_once(now=start + window + timedelta(minutes=30)) == 0
    assert await loop.run_once(now=start + 2 * window + timedelta(minutes=2)) == 1
    texts = [m.text for m in await new_alerts(telegram)]
    assert len(texts) == 3 and "New urgent tip" not in texts[1]
    assert texts[1] == f"🚨 Tin báo khẩn {tip.ref} vẫn chưa có ai tiếp nhận. Hãy mở ứng dụng cán bộ."

    async with bot.sessions() as session:
        await session.execute(update(Tip).where(Tip.id == tip.id).values(first_response_at=utcnow()))
        await session.commit()
    assert await loop.run_once(now=start + 5 * window) == 0
    assert await new_alerts(telegram) == []


async def test_two_loops_alert_a_tip_once(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """Two processes running rounds at the same moment: one alert per officer."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    telegram = await link(api, bot, officer, 700200)
    await make_tip(bot.context, urgent=True)
    now = utcnow()
    counts = await asyncio.gather(AlertLoop(bot.context).run_once(now=now), AlertLoop(bot.context).run_once(now=now))
    assert sorted(counts) == [0, 1]
    assert len(await new_alerts(telegram)) == 1


async def test_blocked_bot_unlinks_the_officer(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """403 from Telegram: the chat is forgotten; the alert is still recorded for the others."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    other = await make_officer(bot.context, "hanoi2", provinces=(HA_NOI,))
    await link(api, bot, officer, 700300)
    second = await link(api, bot, other, 700301)
    await bot.client.set_behaviour(blocked_chats=[700300])
    await make_tip(bot.context, urgent=True)

    assert await AlertLoop(bot.context).run_once() == 1

    assert len(await new_alerts(second)) == 1
    assert (await api.get(ME, headers=officer.headers)).json()["telegram_linked"] is False
    assert (await api.get(ME, headers=other.headers)).json()["telegram_linked"] is True


async def test_background_loop_alerts_on_its_own(api: httpx.AsyncClient, bot: RunningBot) -> None:
    """`tinbao run` starts the loop: a new urgent tip reaches the officer without anyone calling run_once."""
    officer = await make_officer(bot.context, "hanoi", provinces=(HA_NOI,))
    telegram = await link(api, bot, officer, 700400)
    tip, _ = await make_tip(bot.context, urgent=True)
    loop = AlertLoop(bot.context, interval=0.05)
    loop.start()
    try:
        [alert] = await telegram.replies(timeout=5)
    finally:
        await loop.stop()
    assert tip.ref in alert.text
