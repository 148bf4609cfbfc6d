"""/subscribe and /unsubscribe step by step: area, topics, editing, leaving and coming back."""

from __future__ import annotations

from sqlalchemy import text

from storage.domain import ALL_TOPICS_MASK, TOPIC_BITS, SubscriberState, Topic
from tests.conftest import RunningBot
from tests.handlers.test_report_support import settings  # noqa: F401 - relaxed flood limit
from tests.handlers.test_subscribe_support import (
    QUIET,
    area_codes,
    choose_province,
    choose_ward,
    last_answer,
    photo,
    sticker,
    subscribers,
    tap,
    texts,
)


async def test_whole_province_with_topic_toggles_and_sealed_chat_id(bot: RunningBot) -> None:
    c = bot.citizen(user_id=730001234)
    first = await c.send("/subscribe", quiet=QUIET)
    assert "mã hóa" in first[0].text and "/unsubscribe" in first[0].text
    assert first[-1].button("Cả nước") == "sb:country"
    ward_q = await choose_province(c)
    assert "hoan kiem" in ward_q[-1].text and ward_q[-1].button("Cả tỉnh") == "sb:ward:all"
    topics = await tap(c, "sb:ward:all")
    assert "cả tỉnh" in texts(topics)
    assert all(label.startswith("✅") for label, data in topics[-1].buttons if data.startswith("sb:topic:"))
    await tap(c, "sb:topic:all", expect=False)
    current = await c.refresh(topics[-1])
    assert all(label.startswith("⬜") for label, data in current.buttons if data.startswith("sb:topic:"))
    assert await tap(c, "sb:save", expect=False) == []
    assert "ít nhất một chủ đề" in await last_answer(c)
    await tap(c, "sb:topic:drugs", expect=False)
    await tap(c, "sb:topic:scams", expect=False)
    current = await c.refresh(topics[-1])
    assert ("✅ Ma túy", "sb:topic:drugs") in current.buttons and (
        "⬜ Phòng cháy, chữa cháy",
        "sb:topic:fire",
    ) in current.buttons
    saved = await tap(c, "sb:save")
    assert "Đã lưu" in saved[-1].text and "Ma túy" in saved[-1].text and "Lừa đảo" in saved[-1].text
    assert "/unsubscribe" in saved[-1].text
    [row] = await subscribers(bot)
    hanoi, _ward = await area_codes(bot)
    assert (row.province_code, row.ward_code, row.state, row.locale) == (hanoi, None, SubscriberState.ACTIVE, "vi")
    assert row.topics_mask == TOPIC_BITS[Topic.DRUGS] | TOPIC_BITS[Topic.SCAMS]
    assert bot.context.keys.decrypt_text(row.chat_enc, purpose="subscriber_chat") == "730001234"
    async with bot.sessions() as session:
        raw = (await session.execute(text("SELECT * FROM subscribers"))).one()
    assert all(b"730001234" not in (v if isinstance(v, bytes) else str(v).encode()) for v in raw)


async def test_commune_edit_unsubscribe_and_come_back(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/subscribe", quiet=QUIET)
    await choose_province(c)
    topics = await choose_ward(c, "hoan kiem", "Hoàn Kiếm")
    assert "Phường Hoàn Kiếm" in texts(topics)
    await tap(c, "sb:save")
    hanoi, hoan_kiem = await area_codes(bot)
    [row] = await subscribers(bot)
    assert (row.province_code, row.ward_code, row.topics_mask) == (hanoi, hoan_kiem, ALL_TOPICS_MASK)

    current = await c.send("/subscribe", quiet=QUIET)
    assert "Phường Hoàn Kiếm" in current[-1].text and "tất cả chủ đề" in current[-1].text
    assert current[-1].button("Ngừng nhận") == "sb:unsub"
    await tap(c, "sb:edit:topics")
    await tap(c, "sb:topic:fire", expect=False)
    await tap(c, "sb:save")
    [row] = await subscribers(bot)
    assert row.topics_mask == ALL_TOPICS_MASK & ~TOPIC_BITS[Topic.FIRE] and row.ward_code == hoan_kiem

    await c.send("/subscribe", quiet=QUIET)
    await tap(c, "sb:edit:area")
    await tap(c, "sb:country")
    await tap(c, "sb:save")
    [row] = await subscribers(bot)
    assert (row.province_code, row.ward_code) == (None, None)

    left = await c.send("/unsubscribe", quiet=QUIET)
    assert "Xong" in left[-1].text and "/subscribe" in left[-1].text
    [row] = await subscribers(bot)
    assert row.state == SubscriberState.UNSUBSCRIBED and row.chat_enc == b""
    again = await c.send("/unsubscribe", quiet=QUIET)
    assert "chưa đăng ký" in again[-1].text

    back = await c.send("/subscribe", quiet=QUIET)
    assert "mã hóa" in back[0].text  # a fresh start, not the old choice
    topics = await tap(c, "sb:country")
    assert ("⬜ Phòng cháy, chữa cháy", "sb:topic:fire") in topics[-1].buttons  # the earlier topics are kept
    await tap(c, "sb:save")
    [row] = await subscribers(bot)
    assert row.state == SubscriberState.ACTIVE and row.chat_enc != b""


async def test_unsubscribe_button_on_the_current_choice(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/subscribe", quiet=QUIET)
    await tap(c, "sb:country")
    await tap(c, "sb:save")
    await c.send("📢 Thông báo", quiet=QUIET)
    left = await tap(c, "sb:unsub")
    assert "Xong" in left[-1].text
    [row] = await subscribers(bot)
    assert row.state == SubscriberState.UNSUBSCRIBED


async def test_bad_input_at_every_subscribe_step_loses_nothing(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/subscribe", quiet=QUIET)
    hint = await sticker(c)
    assert "nhãn dán" in hint[-1].text and hint[-1].button("Cả nước") == "sb:country"
    unknown = await c.send("/foo", quiet=QUIET)
    assert "Lệnh không đúng" in unknown[-1].text and unknown[-1].buttons
    nothing = await c.send("zzzz", quiet=QUIET)
    assert "zzzz" in nothing[-1].text and nothing[-1].button("Cả nước")
    old_province_list = nothing[-1]
    await choose_province(c)
    no_ward = await c.send("qqqq", quiet=QUIET)
    assert "Không có xã, phường nào" in no_ward[-1].text
    hint = await photo(c)
    assert "Không dùng được loại tin này" in hint[-1].text and "hoan kiem" in hint[-1].text
    await choose_ward(c)
    typed = await c.send("ma túy", quiet=QUIET)
    assert "Xin bấm các nút" in typed[-1].text and typed[-1].button("Lưu") == "sb:save"
    await tap(c, "sb:topic:traffic", expect=False)
    # A stale button from the province step has expired; the topics step keeps its toggles.
    await c.press_data(old_province_list.message_id, "sb:country", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c)
    again = await sticker(c)
    assert ("⬜ An toàn giao thông", "sb:topic:traffic") in again[-1].buttons
    cancelled = await c.send("/cancel", quiet=QUIET)
    assert "hủy" in cancelled[-1].text.lower()
    assert await subscribers(bot) == []
    await c.press_data(again[-1].message_id, "sb:save", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c) and await subscribers(bot) == []


async def test_menu_button_starts_subscribe_from_inside_the_tip_form(bot: RunningBot) -> None:
    c = bot.citizen(language_code="en")
    await c.send("/report", quiet=QUIET)
    started = await c.send("📢 Campaigns", quiet=QUIET)
    assert "encrypted" in started[0].text and started[-1].button("Whole country") == "sb:country"
    topics = await tap(c, "sb:country")
    assert "the whole country" in texts(topics) and topics[-1].button("All topics") == "sb:topic:all"
    saved = await tap(c, "sb:save")
    assert "Saved" in saved[-1].text and "📢 Campaigns" in saved[-1].keyboard
    [row] = await subscribers(bot)
    assert row.locale == "en"


async def test_unsubscribe_inside_the_tip_form_keeps_the_draft(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/report", quiet=QUIET)
    answer = await c.send("/unsubscribe", quiet=QUIET)
    assert "chưa đăng ký" in answer[-1].text
    groups = await tap(c, "rp:grp:social_evils", expect=False)
    assert groups == [] and "hết hạn" not in await last_answer(c)
