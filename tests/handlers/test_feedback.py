"""/feedback step by step: area, text within the limit, confirm; stored with no link to the sender."""

from __future__ import annotations

from sqlalchemy import text

from storage.feedback import FEEDBACK_MAX_CHARS
from storage.models import Feedback
from tests.conftest import RunningBot
from tests.handlers.test_report_support import (
    all_tips,
    settings,  # noqa: F401 - relaxed flood limit
)
from tests.handlers.test_subscribe_support import (
    QUIET,
    area_codes,
    choose_province,
    choose_ward,
    feedback_rows,
    last_answer,
    photo,
    sticker,
    tap,
    texts,
)

OPINION = "Đề nghị lắp thêm đèn đường ở ngõ 12 vì buổi tối rất tối."


async def test_feedback_to_a_commune_is_stored_without_any_reporter_link(bot: RunningBot) -> None:
    c = bot.citizen(user_id=730009876)
    first = await c.send("/feedback", quiet=QUIET)
    assert "Công an lắng nghe ý kiến Nhân dân" in texts(first) and "ẩn danh" in texts(first)
    ward_q = await choose_province(c)
    assert ward_q[-1].button("Cả tỉnh") == "fb:ward:all"
    body_q = await choose_ward(c)
    assert "2.000" in body_q[-1].text
    confirm = await c.send(OPINION, quiet=QUIET)
    assert OPINION in confirm[-1].text and "Phường Hoàn Kiếm" in confirm[-1].text
    assert await feedback_rows(bot) == []
    done = await tap(c, "fb:send")
    assert "Cảm ơn" in done[-1].text and "Phường Hoàn Kiếm" in done[-1].text
    [row] = await feedback_rows(bot)
    hanoi, hoan_kiem = await area_codes(bot)
    assert (row.province_code, row.ward_code, row.body, row.locale) == (hanoi, hoan_kiem, OPINION, "vi")
    assert not any("reporter" in column.name for column in Feedback.__table__.columns)
    async with bot.sessions() as session:
        raw = (await session.execute(text("SELECT * FROM feedback"))).one()
    assert all(b"730009876" not in str(v).encode() for v in raw)
    assert await all_tips(bot) == []  # kept apart from tips


async def test_over_long_text_is_refused_kept_and_can_be_cut(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("💬 Góp ý", quiet=QUIET)
    await choose_province(c)
    await tap(c, "fb:ward:all")
    long_text = ("Ý kiến dài. " * 250).strip()
    refused = await c.send(long_text, quiet=QUIET)
    assert "2.999" in refused[-1].text and "2.000" in refused[-1].text
    assert refused[-1].button("2.000") == "fb:fit"
    confirm = await tap(c, "fb:fit")
    assert "Thành phố Hà Nội" in confirm[-1].text
    await tap(c, "fb:send")
    [row] = await feedback_rows(bot)
    assert row.body == long_text[:FEEDBACK_MAX_CHARS].strip() and row.ward_code is None


async def test_bad_input_at_every_feedback_step_loses_nothing(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/feedback", quiet=QUIET)
    hint = await sticker(c)
    assert "nhãn dán" in hint[-1].text and hint[-1].buttons
    old_list = hint[-1]
    await choose_province(c)
    hint = await sticker(c)
    assert "nhãn dán" in hint[-1].text and hint[-1].button("Cả tỉnh")
    await tap(c, "fb:ward:all")
    hint = await photo(c)
    assert "Không dùng được loại tin này" in hint[-1].text and "2.000" in hint[-1].text
    unknown = await c.send("/foo", quiet=QUIET)
    assert "Lệnh không đúng" in unknown[-1].text
    await c.press_data(old_list.message_id, old_list.buttons[1][1], force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c)
    confirm = await c.send("Bản nháp đầu", quiet=QUIET)
    typed = await c.send("gửi đi", quiet=QUIET)
    assert "Xin bấm các nút" in typed[-1].text and "Bản nháp đầu" in typed[-1].text
    await tap(c, "fb:rewrite")
    confirm = await c.send(OPINION, quiet=QUIET)
    assert OPINION in confirm[-1].text and "Thành phố Hà Nội" in confirm[-1].text
    cancelled = await c.send("/cancel", quiet=QUIET)
    assert "hủy" in cancelled[-1].text.lower()
    await c.press_data(confirm[-1].message_id, "fb:send", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c)
    assert await feedback_rows(bot) == []


async def test_feedback_in_english_cancel_button(bot: RunningBot) -> None:
    c = bot.citizen(language_code="en")
    first = await c.send("/feedback", quiet=QUIET)
    assert "police listen to the people" in texts(first)
    await choose_province(c)
    await tap(c, "fb:ward:all")
    await c.send("More patrols at night, please.", quiet=QUIET)
    cancelled = await tap(c, "fb:cancel")
    assert "Nothing was sent" in cancelled[-1].text
    assert await feedback_rows(bot) == []
