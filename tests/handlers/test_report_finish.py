"""Summary edits, sending once, deleting the conversation, and a restart in the middle of the form."""

from __future__ import annotations

from bot.config import Settings
from bot.context import AppContext
from bot.factory import build_context
from sandbox.runner import RunningSandbox
from tests.conftest import RunningBot, start_polling_bot, stop_polling_bot
from tests.handlers.test_report_support import (
    QUIET,
    all_tips,
    send_and_get_code,
    settings,  # noqa: F401 - relaxed flood limit for these tests
    tap,
    texts,
    to_description,
    to_summary,
)


async def test_edit_from_summary_returns_to_summary(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_summary(c)
    when_q = await tap(c, "rp:edit:when")
    assert "Việc xảy ra khi nào" in when_q[-1].text
    back = await c.send("02/01/2024", quiet=QUIET)
    assert "Xin kiểm tra lại tin báo" in back[-1].text and "02/01/2024" in back[-1].text
    await tap(c, "rp:edit:category")
    await tap(c, "rp:grp:criminal", expect=False)
    back = await tap(c, "rp:cat:fraud")
    assert "Lừa đảo" in back[-1].text
    story = await tap(c, "rp:edit:description")
    assert "vẫn được giữ" in story[-1].text
    await c.send("Bổ sung: có hai người.", quiet=QUIET)
    back = await tap(c, "rp:desc:done")
    assert "hai người" in back[-1].text and "đầu ngõ" in back[-1].text
    await tap(c, "rp:edit:where")
    await c.send("ho chi minh", quiet=QUIET)
    await c.press_data(c.seen[-1].message_id, c.seen[-1].button("Hồ Chí Minh"), quiet=QUIET)
    await tap(c, "rp:ward:unknown")
    await c.send("Gần bến xe", quiet=QUIET)
    back = await c.send("⏭ Bỏ qua", quiet=QUIET)
    assert "Xin kiểm tra lại tin báo" in back[-1].text
    assert "Hồ Chí Minh" in back[-1].text and "không rõ" in back[-1].text and "Gần bến xe" in back[-1].text
    await send_and_get_code(c)
    [tip] = await all_tips(bot)
    assert tip.ward_code is None and tip.place_detail == "Gần bến xe"
    assert tip.occurred_on is not None and tip.occurred_on.isoformat() == "2024-01-02"


async def test_double_send_creates_one_tip(bot: RunningBot) -> None:
    c = bot.citizen()
    summary = await to_summary(c)
    send_data = summary[-1].button("Gửi")
    await send_and_get_code(c)
    await c.press_data(summary[-1].message_id, send_data, force=True, expect=False, quiet=QUIET)
    answers = await c.client.callback_answers()
    assert "hết hạn" in answers[-1].get("text", "")
    assert len(await all_tips(bot)) == 1


async def test_delete_conversation_after_confirmation(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_summary(c)
    await send_and_get_code(c)
    confirm = await tap(c, "rp:wipe")
    assert "lưu mã tra cứu" in confirm[-1].text
    kept = await tap(c, "rp:wipe:no", expect=False)
    assert kept == []
    confirm = await tap(c, "rp:wipe")
    done = await tap(c, "rp:wipe:yes")
    assert "Đã xóa" in done[-1].text
    everything = await c.client.messages(c.user_id, include_user=True)
    last_deleted = confirm[-1].message_id
    trail = [m for m in everything if m["message_id"] <= last_deleted]
    assert trail and all(m.get("deleted") for m in trail), [m for m in trail if not m.get("deleted")][:3]
    assert not any(m.get("deleted") for m in everything if m["message_id"] == done[-1].message_id)
    assert len(await all_tips(bot)) == 1


async def test_restart_mid_form_keeps_the_draft(
    app_context: AppContext,
    sandbox: RunningSandbox,
    settings: Settings,  # noqa: F811
) -> None:
    first = await start_polling_bot(app_context, sandbox)
    c = first.citizen()
    await to_description(c)
    await c.send("Phần một.", quiet=QUIET)
    await stop_polling_bot(first)
    await app_context.close()
    second = await start_polling_bot(build_context(settings, api_base=sandbox.base_url), sandbox)
    try:
        c.client = second.client
        c.tracker = second.tracker
        more = await c.send("Phần hai.", quiet=QUIET)
        assert "19/4.000" in more[-1].text
        await tap(c, "rp:desc:done")
        await tap(c, "rp:ev:skip")
        summary = await tap(c, "rp:anon:anonymous")
        assert "Hoàn Kiếm" in summary[-1].text and "Phần một.\nPhần hai." in texts(summary)
    finally:
        await stop_polling_bot(second)
        await second.context.close()
