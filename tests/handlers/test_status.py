"""/status: opening a tip by receipt code, the status words, the thread, the throttle, privacy of the view."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.domain import Category, MessageKind, Outcome, TipStatus
from storage.models import FsmRecord
from tests.conftest import RunningBot
from tests.handlers.test_status_support import (
    CODE,
    add_officer_row,
    fsm_state,
    make_tip,
    open_view,
    texts,
)

WRONG = "No tip could be opened with this code"
WRONG_VI = "Không mở được tin báo nào với mã này"
BLOCKED_VI = "Bạn đã thử quá nhiều lần"


@pytest.mark.parametrize(
    "typed",
    [CODE, "7qk2-m9xd-40np-r3tw", "7QK2 M9XD 40NP R3TW", "7QK2M9XD40NPR3TW", "7qk2 m9xd 4onp r3tw"],
)
async def test_right_code_opens_the_tip_however_it_is_typed(bot: RunningBot, typed: str) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    [ask] = await citizen.send("/status")
    assert "mã tra cứu" in ask.text and "7QK2-M9XD-4HNP-R3TW" in ask.text
    view = await citizen.send(typed)
    shown = texts(view)
    assert "Tin báo của bạn" in shown
    assert "Đã nhận, đang chờ cán bộ xem." in shown
    assert "Lừa đảo" in shown
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")
    assert f"Ngày gửi: {today}" in shown
    labels = [label for label, _data in view[-1].buttons]
    assert labels == ["➕ Bổ sung thông tin", "🔄 Cập nhật", "✖ Đóng"]
    state, data = await fsm_state(bot, citizen)
    assert state == "StatusFlow:viewing" and set(data) >= {"tip_id", "opened_at"}


async def test_code_with_the_command_and_from_the_menu(bot: RunningBot) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    view = await citizen.send("/status 7qk2m9xd40npr3tw")
    assert "Đã nhận" in texts(view)
    [ask] = await citizen.send("🔎 Tra cứu tin báo")
    assert "mã tra cứu" in ask.text
    state, data = await fsm_state(bot, citizen)
    assert state == "StatusFlow:code" and "tip_id" not in data


async def test_text_that_is_not_a_code_explains_the_shape_and_is_not_a_try(bot: RunningBot) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    await citizen.send("/status")
    for _ in range(3):
        [hint] = await citizen.send("mã của tôi là gì?")
        assert "16 chữ và số" in hint.text
    await citizen.client.send_photo(citizen.user)
    [hint] = await citizen.replies()
    assert "16 chữ và số" in hint.text
    assert "Đã nhận" in texts(await citizen.send(CODE))


STATUS_CASES = [
    (TipStatus.NEW, None, "Đã nhận, đang chờ cán bộ xem."),
    (TipStatus.IN_REVIEW, None, "Cán bộ đang xem xét."),
    (TipStatus.NEEDS_INFO, None, "Cán bộ có câu hỏi cho bạn"),
    (TipStatus.FORWARDED, None, "Đã chuyển cho đơn vị điều tra."),
    (TipStatus.CLOSED, Outcome.VALUABLE, "Đã kết thúc. Cảm ơn bạn: thông tin của bạn có giá trị (tin có giá trị)."),
    (TipStatus.CLOSED, Outcome.FALSE_REPORT, "Tình trạng: Đã kết thúc.\n"),
    (TipStatus.CLOSED, Outcome.SPAM, "Tình trạng: Đã kết thúc.\n"),
    (TipStatus.CLOSED, Outcome.NOT_ACTIONABLE, "Tình trạng: Đã kết thúc.\n"),
]


async def test_status_words_for_every_status_and_outcome(bot: RunningBot) -> None:
    for index, (status, outcome, words) in enumerate(STATUS_CASES):
        code = f"AAAA-BBBB-CCCC-{index:04d}"
        await make_tip(bot, code, status=status, outcome=outcome)
        citizen = bot.citizen(user_id=100000100 + index)  # one each, so the flood guard stays out of it
        shown = texts(await citizen.send(f"/status {code}"))
        assert words in shown, (status, outcome, shown)
        if outcome is not None and outcome is not Outcome.VALUABLE:
            assert "giá trị" not in shown
            for internal in ("false", "spam", "sai sự thật", "rác", outcome.value):
                assert internal not in shown.lower()


async def test_officer_replies_shown_notes_never(bot: RunningBot) -> None:
    tip_id = await make_tip(bot, status=TipStatus.NEEDS_INFO, category=Category.DRUGS)
    await add_officer_row(bot, tip_id, "Bạn thấy người đó lúc mấy giờ? <b>&</b>")
    await add_officer_row(bot, tip_id, "GHI CHÚ NỘI BỘ: nghi là tin sai", MessageKind.NOTE)
    citizen = bot.citizen()
    shown = texts(await open_view(citizen))
    assert "Ma túy" in shown
    assert "Công an" in shown
    assert "Bạn thấy người đó lúc mấy giờ? <b>&</b>" in shown  # escaped, so shown literally
    assert "NỘI BỘ" not in shown and "tin sai" not in shown


async def test_long_thread_is_split_under_telegram_limit(bot: RunningBot) -> None:
    tip_id = await make_tip(bot)
    for index in range(4):
        await add_officer_row(bot, tip_id, f"Câu hỏi {index}: " + "<&>" * 1300)
    citizen = bot.citizen()
    view = await open_view(citizen)
    assert len(view) >= 3
    assert all(len(m.text) <= 4096 for m in view)
    assert texts(view).count("<&>") == 4 * 1300
    assert view[-1].buttons and not any(m.buttons for m in view[:-1])


async def test_five_wrong_codes_block_the_sixth_even_if_right(bot: RunningBot) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    await citizen.send("/status")
    for attempt in range(5):
        [answer] = await citizen.send(f"ZZZZ-ZZZZ-ZZZZ-ZZ{attempt:02d}")
        assert answer.text.startswith(WRONG_VI)
        if attempt < 4:
            assert f": {4 - attempt}." in answer.text
    [blocked] = await citizen.send(CODE)
    assert BLOCKED_VI in blocked.text and "10 phút" in blocked.text
    assert "Tin báo của bạn" not in blocked.text
    other = bot.citizen(user_id=100000002)
    assert "Đã nhận" in texts(await open_view(other))


async def test_wrong_code_answer_does_not_reveal_a_similar_tip(bot: RunningBot) -> None:
    await make_tip(bot)
    near, far = bot.citizen(user_id=100000011), bot.citizen(user_id=100000012)
    await near.send("/status")
    await far.send("/status")
    [near_answer] = await near.send("7QK2-M9XD-40NP-R3TX")
    [far_answer] = await far.send("1111-2222-3333-4444")
    assert near_answer.text == far_answer.text
    assert near_answer.raw.get("reply_markup") == far_answer.raw.get("reply_markup")


async def test_english_citizen_sees_english(bot: RunningBot) -> None:
    tip_id = await make_tip(bot, status=TipStatus.CLOSED, outcome=Outcome.VALUABLE)
    await add_officer_row(bot, tip_id, "Thank you for the tip.")
    citizen = bot.citizen(language_code="en")
    [ask] = await citizen.send("/status")
    assert "Please send the receipt code" in ask.text
    [wrong] = await citizen.send("1111-2222-3333-4444")
    assert wrong.text.startswith(WRONG)
    shown = texts(await citizen.send(CODE))
    assert "Status: Closed. Thank you: your information was valuable" in shown
    assert "Category: Fraud" in shown
    assert "Police" in shown
    assert [label for label, _data in citizen.seen[-1].buttons] == ["➕ Add information", "🔄 Refresh", "✖ Close"]


async def test_fsm_record_is_sealed(bot: RunningBot) -> None:
    tip_id = await make_tip(bot)
    citizen = bot.citizen()
    await open_view(citizen)
    redis = bot.context.redis
    if redis is not None:
        blobs = [await redis.get(key) for key in await redis.keys("tinbao:fsm:*:data")]
    else:
        async with bot.sessions() as session:
            blobs = list((await session.scalars(select(FsmRecord.data_enc))).all())
    blobs = [b for b in blobs if b]
    assert blobs, "the view keeps its tip in FSM data"
    for blob in blobs:
        raw = blob if isinstance(blob, bytes) else str(blob).encode()
        with pytest.raises(ValueError):
            json.loads(raw)
        for secret in (b"tip_id", b"opened_at", CODE.encode(), b"7QK2M9XD40NPR3TW"):
            assert secret not in raw
        assert f'"tip_id": {tip_id}'.encode() not in raw
