"""The tip form from /report to the receipt, at each privacy level, in Vietnamese and English."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.domain import Anonymity, AttachmentKind, Category, WhenKind
from storage.models import Reporter
from storage.tips import find_tip_by_receipt
from tests.conftest import RunningBot
from tests.handlers.test_report_support import (
    all_tips,
    attachments,
    send_and_get_code,
    settings,  # noqa: F401 - relaxed flood limit for these tests
    tap,
    texts,
    to_anonymity,
    to_province,
    to_summary,
)

CODE_RE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")


async def test_follow_up_tip_in_vietnamese(bot: RunningBot) -> None:
    c = bot.citizen()
    summary = await to_summary(c, "follow_up")
    assert "Gửi tin báo cho Công an" in c.seen[0].text
    assert "Chọn một nhóm" in c.seen[1].text
    body = summary[-1].text
    for words in ("Ma túy", "Hà Nội", "Hoàn Kiếm", "Hôm nay", "đầu ngõ", "1 ảnh", "Ẩn danh, nhận được phản hồi"):
        assert words in body, words
    code = await send_and_get_code(c)
    assert CODE_RE.match(code)
    receipt = next(m for m in reversed(c.seen) if code in m.text)
    assert "Xóa cuộc trò chuyện" in receipt.buttons[0][0]
    assert "giữ bí mật" in receipt.text and "/status" in receipt.text
    async with bot.sessions() as session:
        tip = await find_tip_by_receipt(session, receipt_hash=bot.context.keys.receipt_hash(code))
        assert tip is not None
        assert tip.category == Category.DRUGS
        assert tip.anonymity == Anonymity.FOLLOW_UP
        assert tip.when_kind == WhenKind.TODAY and tip.occurred_on is not None
        assert tip.description == "Có người bán ma túy ở đầu ngõ mỗi tối."
        assert tip.ward_code is not None and tip.urgent is False
        reporter = await session.scalar(select(Reporter).where(Reporter.id == tip.reporter_id))
        assert reporter is not None and reporter.chat_enc is not None
        chat = bot.context.keys.decrypt_text(reporter.chat_enc, purpose="chat")
        assert chat == str(c.user_id)
    files = await attachments(bot)
    assert [f.kind for f in files] == [AttachmentKind.PHOTO]
    assert files[0].file_id and files[0].file_unique_id


async def test_anonymous_tip_has_no_reporter_link(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_summary(c, "anonymous")
    code = await send_and_get_code(c)
    [tip] = await all_tips(bot)
    assert tip.reporter_id is None
    assert tip.anonymity == Anonymity.ANONYMOUS
    async with bot.sessions() as session:
        found = await find_tip_by_receipt(session, receipt_hash=bot.context.keys.receipt_hash(code))
        assert found is not None and found.id == tip.id
        reporters = (await session.scalars(select(Reporter))).all()
        assert all(r.chat_enc is None for r in reporters)


async def test_identified_tip_seals_name_and_phone(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_anonymity(c)
    ask = await tap(c, "rp:anon:identified")
    assert "Chia sẻ số điện thoại" in " ".join(ask[-1].keyboard)
    refused = await c.send("Nguyễn Văn Bình")
    assert "Xin bấm nút" in refused[-1].text
    await c.client.send_contact(c.user, phone="+84901234567", first_name="Khác", own=False)
    other = await c.replies()
    assert "của chính bạn" in other[-1].text
    await c.client.send_contact(c.user, phone="+84901234567", first_name="Nguyễn Văn", last_name="Bình")
    name_q = await c.replies()
    assert any("Nguyễn Văn Bình" in label for label, _d in name_q[-1].buttons)
    summary = await c.send("Anh Bình")
    assert "Anh Bình" in summary[-1].text
    await send_and_get_code(c)
    [tip] = await all_tips(bot)
    assert tip.anonymity == Anonymity.IDENTIFIED and tip.reporter_id is not None
    assert tip.identity_name_enc is not None and tip.identity_phone_enc is not None
    assert b"84901234567" not in tip.identity_phone_enc and "Bình".encode() not in tip.identity_name_enc
    keys = bot.context.keys
    assert keys.decrypt_text(tip.identity_phone_enc, purpose="identity_phone") == "+84901234567"
    assert keys.decrypt_text(tip.identity_name_enc, purpose="identity_name") == "Anh Bình"


async def test_english_citizen_sees_english(bot: RunningBot) -> None:
    c = bot.citizen(language_code="en")
    first = await c.send("/report")
    assert "Send a tip to the police" in texts(first)
    await tap(c, "rp:grp:criminal", expect=False)
    danger = await tap(c, "rp:cat:fraud")
    assert "Is it happening now" in danger[-1].text
    await tap(c, "rp:danger:yes")
    assert "113" in texts(c.seen[-3:])
    await c.send("/cancel")


async def test_urgent_tip_shows_emergency_numbers_on_receipt(bot: RunningBot) -> None:
    c = bot.citizen()
    replies = await to_province(c, urgent=True)
    assert "113" in texts(replies) and "Việc xảy ra ở đâu" in replies[-1].text
