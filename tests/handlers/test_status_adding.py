"""/status: adding information, closed tips, expiry of the view, stale buttons, cancel."""

from __future__ import annotations

from datetime import timedelta

from storage.domain import MAX_FOLLOWUP_CHARS, AttachmentKind, TipStatus
from storage.models import utcnow
from tests.citizen import Citizen
from tests.conftest import RunningBot
from tests.handlers.test_status_support import (
    CODE,
    age_view,
    attachments_of,
    count_tipster_rows,
    eventually,
    fsm_state,
    make_tip,
    open_view,
    texts,
    tipster_rows,
)

ADDED = "Đã thêm vào tin báo của bạn"


async def start_adding(citizen: Citizen) -> None:
    """Open the view and press Add information."""
    await open_view(citizen)
    [prompt] = await citizen.press("Bổ sung thông tin")
    assert "Xong" in prompt.text


async def test_add_text_album_and_overlong_text(bot: RunningBot) -> None:
    tip_id = await make_tip(bot, status=TipStatus.NEEDS_INFO)
    citizen = bot.citizen()
    await start_adding(citizen)
    [ack] = await citizen.send("Người đó đi xe máy màu đỏ.")
    assert ack.text.startswith(ADDED) and ack.button("Xong")
    await citizen.client.send_album(citizen.user, [{"photo": {}}, {"photo": {}}, {"photo": {}}], caption="Ảnh chụp")
    acks = await citizen.replies(quiet=0.6)
    assert len(acks) == 1 and acks[0].text.startswith(ADDED)
    [refused] = await citizen.send("a" * (MAX_FOLLOWUP_CHARS + 1))
    assert str(MAX_FOLLOWUP_CHARS) in refused.text and "quá dài" in refused.text
    rows = await tipster_rows(bot, tip_id)
    assert len(rows) == 4
    assert rows[0].body == "Người đó đi xe máy màu đỏ."
    files = await attachments_of(bot, tip_id)
    assert len(files) == 3 and {f.kind for f in files} == {AttachmentKind.PHOTO}
    assert {f.message_id for f in files} == {r.id for r in rows[1:]}
    # Done goes back to the view, which now shows the additions as "Bạn".
    view = await citizen.press("Xong")
    shown = texts(view)
    assert "Tin báo của bạn" in shown and "Bạn ·" in shown and "Người đó đi xe máy màu đỏ." in shown
    state, _ = await fsm_state(bot, citizen)
    assert state == "StatusFlow:viewing"


async def test_files_of_every_kind_sticker_and_document_warning(bot: RunningBot) -> None:
    tip_id = await make_tip(bot)
    citizen = bot.citizen()
    await start_adding(citizen)
    await citizen.client.send_document(citizen.user, "IMG_0001.jpg", b"\xff\xd8\xff\xe0fakejpeg", "image/jpeg")
    [ack] = await citizen.replies()
    assert ack.text.startswith(ADDED) and "nơi chụp" in ack.text
    await citizen.client.send_voice(citizen.user)
    [ack] = await citizen.replies()
    assert ack.text.startswith(ADDED) and "nơi chụp" not in ack.text
    await citizen.client.send_video(citizen.user)
    [ack] = await citizen.replies()
    assert ack.text.startswith(ADDED)
    await citizen.client.send_sticker(citizen.user)
    [hint] = await citizen.replies()
    assert "nhãn dán" in hint.text
    await citizen.client.send_location(citizen.user, 21.03, 105.85)
    [hint] = await citizen.replies()
    assert "Không thể thêm loại tin nhắn này" in hint.text
    kinds = sorted(a.kind for a in await attachments_of(bot, tip_id))
    assert kinds == sorted([AttachmentKind.DOCUMENT, AttachmentKind.VOICE, AttachmentKind.VIDEO])


async def test_flood_of_texts_is_all_stored(bot: RunningBot) -> None:
    tip_id = await make_tip(bot)
    citizen = bot.citizen()
    await start_adding(citizen)
    for index in range(30):
        await citizen.client.send_text(citizen.user, f"Chi tiết số {index}")

    async def all_stored() -> bool:
        return await count_tipster_rows(bot, tip_id) == 30

    await eventually(all_stored, within=20)
    bodies = sorted(r.body for r in await tipster_rows(bot, tip_id))
    # Order is kept with the in-process lock; Redis' lock is not FIFO, so only completeness is checked.
    assert bodies == sorted(f"Chi tiết số {i}" for i in range(30))
    await citizen.replies(expect=False)
    assert all("quá nhanh" not in m.text for m in citizen.seen)


async def test_closed_tip_refuses_additions(bot: RunningBot) -> None:
    tip_id = await make_tip(bot, status=TipStatus.CLOSED)
    citizen = bot.citizen()
    await open_view(citizen)
    [refused] = await citizen.press("Bổ sung thông tin")
    assert "đã kết thúc" in refused.text and "/report" in refused.text
    state, _ = await fsm_state(bot, citizen)
    assert state == "StatusFlow:viewing"
    [hint] = await citizen.send("Thêm chi tiết")
    assert "Bổ sung thông tin" in hint.text
    assert await count_tipster_rows(bot, tip_id) == 0


async def test_tip_closed_while_adding_refuses_politely(bot: RunningBot) -> None:
    from tests.handlers.test_status_support import set_status

    tip_id = await make_tip(bot)
    citizen = bot.citizen()
    await start_adding(citizen)
    await set_status(bot, tip_id, TipStatus.CLOSED)
    [refused] = await citizen.send("Thêm chi tiết")
    assert "đã kết thúc" in refused.text
    assert await count_tipster_rows(bot, tip_id) == 0


async def test_expired_view_asks_for_the_code_again(bot: RunningBot) -> None:
    tip_id = await make_tip(bot)
    citizen = bot.citizen()
    await open_view(citizen)
    await age_view(bot, citizen, utcnow() - timedelta(minutes=31))
    [again] = await citizen.press("Cập nhật")
    assert "30 phút" in again.text and "mã tra cứu" in again.text
    state, data = await fsm_state(bot, citizen)
    assert state == "StatusFlow:code" and "tip_id" not in data
    # While adding, an expired view stores nothing and says why.
    await start_adding(citizen)
    await age_view(bot, citizen, utcnow() - timedelta(minutes=31))
    answers = await citizen.send("Chi tiết muộn")
    assert "30 phút" in texts(answers) and "chưa được thêm" in texts(answers)
    assert await count_tipster_rows(bot, tip_id) == 0
    assert "Đã nhận" in texts(await citizen.send(CODE))


async def test_view_younger_than_30_minutes_still_works(bot: RunningBot) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    await open_view(citizen)
    await age_view(bot, citizen, utcnow() - timedelta(minutes=29))
    assert "Tin báo của bạn" in texts(await citizen.press("Cập nhật"))


async def test_stale_buttons_do_nothing(bot: RunningBot) -> None:
    first_tip = await make_tip(bot)
    await make_tip(bot, "1111-2222-3333-4444")
    citizen = bot.citizen()
    old_view = (await open_view(citizen))[-1]
    # Opening another tip makes the first view's buttons stale.
    await citizen.send("1111-2222-3333-4444")
    assert await citizen.press_data(old_view.message_id, old_view.button("Bổ sung"), force=True, expect=False) == []
    state, _ = await fsm_state(bot, citizen)
    assert state == "StatusFlow:viewing"
    # After Close nothing of the view works any more.
    [closed] = await citizen.press("Đóng")
    assert "/status" in closed.text
    new_view = citizen.latest_with_button("Bổ sung")
    for label in ("Bổ sung", "Cập nhật", "Đóng"):
        pressed = await citizen.press_data(new_view.message_id, new_view.button(label), force=True, expect=False)
        assert pressed == []
    answers = await bot.client.callback_answers()
    assert sum("hết hạn" in (a.get("text") or "") for a in answers) >= 4
    assert await fsm_state(bot, citizen) == (None, {})
    assert await count_tipster_rows(bot, first_tip) == 0


async def test_cancel_from_every_status_state(bot: RunningBot) -> None:
    await make_tip(bot)
    citizen = bot.citizen()
    await citizen.send("/status")
    [cancelled] = await citizen.send("/cancel")
    assert "Đã hủy" in cancelled.text
    await open_view(citizen)
    await citizen.send("/cancel")
    assert await fsm_state(bot, citizen) == (None, {})
    await start_adding(citizen)
    await citizen.send("/cancel")
    assert await fsm_state(bot, citizen) == (None, {})
