"""/pledge step by step: kind, area, name, the text in force, signing once per kind and year."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from storage.domain import NAME_MAX_CHARS, SignerKind
from storage.models import PledgeText
from tests.citizen import BotMessage, Citizen
from tests.conftest import RunningBot
from tests.handlers.test_report_support import settings  # noqa: F401 - relaxed flood limit
from tests.handlers.test_subscribe_support import (
    QUIET,
    area_codes,
    choose_province,
    choose_ward,
    ensure_seeded_pledge_texts,
    last_answer,
    pledges,
    sticker,
    tap,
    texts,
)

NAME = "Trần Thị Hoà Pledgetest"


@pytest.fixture(autouse=True)
async def seeded(bot: RunningBot) -> None:
    """The national pledge texts the migration seeds."""
    await ensure_seeded_pledge_texts(bot)


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")


async def test_household_pledge_step_by_step_with_sealed_name(bot: RunningBot) -> None:
    c = bot.citizen()
    first = await c.send("/pledge", quiet=QUIET)
    # Said before anything is signed: not anonymous, what officers see, the name encrypted.
    assert "không phải là ẩn danh" in texts(first) and "mã hóa" in texts(first)
    assert first[-1].button("Hộ gia đình") == "pl:kind:household"
    await tap(c, "pl:kind:household")
    ward_q = await choose_province(c)
    # A household needs its commune: no "whole province" and no "unknown".
    assert "hoan kiem" in ward_q[-1].text and ward_q[-1].buttons == []
    found = await c.send("hoan kiem", quiet=QUIET)
    labels = [label for label, _d in found[-1].buttons]
    assert "Phường Hoàn Kiếm" in labels and not any("Cả tỉnh" in x or "Không rõ" in x for x in labels)
    await c.press_data(found[-1].message_id, "pl:ward:all", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c)
    name_q = await c.press_data(found[-1].message_id, found[-1].button("Hoàn Kiếm"), quiet=QUIET)
    assert "người đại diện" in name_q[-1].text
    digits = await c.send("0912345678", quiet=QUIET)
    assert "bằng chữ" in digits[-1].text and "người đại diện" in digits[-1].text
    too_long = await c.send("A" * (NAME_MAX_CHARS + 1), quiet=QUIET)
    assert "121" in too_long[-1].text and "120" in too_long[-1].text
    blank = await c.send(" . ", quiet=QUIET)
    assert "bằng chữ" in blank[-1].text
    confirm = await c.send(f"  {NAME}  ", quiet=QUIET)
    shown = confirm[-1].text
    assert "Hộ gia đình chúng tôi cam kết" in shown and "phiên bản 1" in shown
    assert NAME in shown and "Phường Hoàn Kiếm" in shown and "không phải là ẩn danh" in shown
    assert await pledges(bot) == []
    done = await tap(c, "pl:sign")
    assert "Cảm ơn" in done[-1].text and today() in done[-1].text
    [row] = await pledges(bot)
    hanoi, hoan_kiem = await area_codes(bot)
    assert (row.signer_kind, row.province_code, row.ward_code) == (SignerKind.HOUSEHOLD, hanoi, hoan_kiem)
    assert row.year == datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    assert bot.context.keys.decrypt_text(row.representative_enc, purpose="pledge_name") == NAME
    async with bot.sessions() as session:
        raw = (await session.execute(text("SELECT * FROM pledges"))).one()
    for needle in (NAME.encode(), b"Pledgetest", "Hoà".encode()):
        assert all(needle not in (v if isinstance(v, bytes) else str(v).encode()) for v in raw)


async def sign(c: Citizen, kind: str, *, ward: bool = True) -> list[BotMessage]:
    """Walk the whole pledge form for one kind."""
    await c.send("/pledge", quiet=QUIET)
    chosen = await tap(c, f"pl:kind:{kind}")
    if "đã ký" in texts(chosen):
        return chosen
    await choose_province(c)
    if ward:
        await choose_ward(c)
    else:
        await tap(c, "pl:ward:all")
    await c.send(NAME, quiet=QUIET)
    return await tap(c, "pl:sign")


async def test_second_pledge_of_a_kind_in_a_year_is_refused_another_kind_is_not(bot: RunningBot) -> None:
    c = bot.citizen()
    await sign(c, "household")
    again = await sign(c, "household")
    assert "đã ký" in again[-1].text and today() in again[-1].text and "Hộ gia đình" in again[-1].text
    assert again[-1].button("Cơ quan") == "pl:kind:agency"  # other kinds stay open
    agency = await tap(c, "pl:kind:agency")
    assert "tỉnh, thành phố" in agency[-1].text
    await choose_province(c)
    await tap(c, "pl:ward:all")  # an agency may sign for a whole province
    confirm = await c.send("Công an phường", quiet=QUIET)
    assert "Cơ quan chúng tôi cam kết" in confirm[-1].text
    await tap(c, "pl:sign")
    kinds = sorted(p.signer_kind.value for p in await pledges(bot))
    assert kinds == ["agency", "household"]


async def test_text_in_force_prefers_commune_then_province(bot: RunningBot) -> None:
    hanoi, hoan_kiem = await area_codes(bot)
    async with bot.sessions() as session:
        session.add(PledgeText(version=2, signer_kind=SignerKind.HOUSEHOLD, province_code=hanoi, body="Bản tỉnh v2"))
        session.add(
            PledgeText(
                version=3, signer_kind=SignerKind.HOUSEHOLD, province_code=hanoi, ward_code=hoan_kiem, body="Bản xã v3"
            )
        )
        session.add(PledgeText(version=9, signer_kind=SignerKind.HOUSEHOLD, body="Đã thôi", active=False))
        await session.commit()
    c = bot.citizen()
    await c.send("/pledge", quiet=QUIET)
    await tap(c, "pl:kind:household")
    await choose_province(c)
    await choose_ward(c)
    confirm = await c.send(NAME, quiet=QUIET)
    assert "Bản xã v3" in confirm[-1].text and "phiên bản 3" in confirm[-1].text
    await tap(c, "pl:sign")
    c2 = bot.citizen(user_id=100000002)
    await c2.send("/pledge", quiet=QUIET)
    await tap(c2, "pl:kind:household")
    await choose_province(c2)
    await choose_ward(c2, "ba dinh", "Ba Đình")
    confirm = await c2.send(NAME, quiet=QUIET)
    assert "Bản tỉnh v2" in confirm[-1].text and "phiên bản 2" in confirm[-1].text


async def test_bad_input_at_every_pledge_step_loses_nothing(bot: RunningBot) -> None:
    c = bot.citizen()
    await c.send("/pledge", quiet=QUIET)
    hint = await sticker(c)
    assert "nhãn dán" in hint[-1].text and hint[-1].button("Trường")
    typed = await c.send("hộ gia đình", quiet=QUIET)
    assert "Xin bấm các nút" in typed[-1].text and "không phải là ẩn danh" in typed[-1].text
    old_kinds = typed[-1]
    await tap(c, "pl:kind:school")
    unknown = await c.send("/foo", quiet=QUIET)
    assert "Lệnh không đúng" in unknown[-1].text and unknown[-1].buttons
    await choose_province(c)
    await choose_ward(c)
    await c.press_data(old_kinds.message_id, "pl:kind:household", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c)
    hint = await sticker(c)
    assert "nhãn dán" in hint[-1].text and "người đại diện" in hint[-1].text
    confirm = await c.send("Trường THCS Test", quiet=QUIET)
    typed = await c.send("đồng ý", quiet=QUIET)
    assert "Xin bấm các nút" in typed[-1].text and "Trường THCS Test" in typed[-1].text
    assert "Nhà trường chúng tôi cam kết" in confirm[-1].text
    await tap(c, "pl:rename")
    renamed = await c.send("Trường THCS Hoàn Kiếm", quiet=QUIET)
    assert "Trường THCS Hoàn Kiếm" in renamed[-1].text and "Phường Hoàn Kiếm" in renamed[-1].text
    cancelled = await tap(c, "pl:cancel")
    assert "Chưa ký" in cancelled[-1].text
    assert await pledges(bot) == []
    await c.press_data(renamed[-1].message_id, "pl:sign", force=True, expect=False, quiet=QUIET)
    assert "hết hạn" in await last_answer(c) and await pledges(bot) == []


async def test_pledge_in_english_and_cancel_command(bot: RunningBot) -> None:
    c = bot.citizen(language_code="en")
    first = await c.send("✍️ Pledge", quiet=QUIET)
    assert "not anonymous" in texts(first) and first[-1].button("Enterprise") == "pl:kind:enterprise"
    await tap(c, "pl:kind:enterprise")
    await choose_province(c)
    await tap(c, "pl:ward:all")
    await c.send("Công ty TNHH Thử", quiet=QUIET)
    cancelled = await c.send("/cancel", quiet=QUIET)
    assert "Cancelled" in cancelled[-1].text
    assert await pledges(bot) == []
