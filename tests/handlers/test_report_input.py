"""Bad input at each step of the tip form: a clear hint, the question again, nothing lost."""

from __future__ import annotations

from storage.domain import DESCRIPTION_MAX_CHARS
from tests.conftest import RunningBot
from tests.handlers.test_report_support import (
    QUIET,
    all_tips,
    choose_hanoi,
    send_and_get_code,
    settings,  # noqa: F401 - relaxed flood limit for these tests
    tap,
    texts,
    to_danger,
    to_description,
    to_place_detail,
    to_province,
    to_when,
)


async def test_sticker_text_and_unknown_command_at_a_button_step(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_danger(c)
    await c.client.send_sticker(c.user)
    sticker = await c.replies(quiet=QUIET)
    assert "nhãn dán" in sticker[-1].text and "đang xảy ra" in sticker[-1].text
    assert sticker[-1].button("Có") == "rp:danger:yes"
    typed = await c.send("có lẽ vậy", quiet=QUIET)
    assert "Xin bấm các nút" in typed[-1].text and typed[-1].buttons
    command = await c.send("/foo", quiet=QUIET)
    assert "Lệnh không đúng" in command[-1].text and "/cancel" in command[-1].text
    photo_sent = await c.client.send_photo(c.user)
    assert photo_sent
    photo = await c.replies(quiet=QUIET)
    assert "Không dùng được loại tin này" in photo[-1].text
    # The step still works afterwards.
    nxt = await tap(c, "rp:danger:no")
    assert "Việc xảy ra ở đâu" in nxt[-1].text


async def test_stale_button_from_another_step_has_expired(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_province(c)
    old = next(m for m in c.seen if any(d == "rp:danger:yes" for _l, d in m.buttons))
    await c.press_data(old.message_id, "rp:danger:yes", force=True, expect=False, quiet=QUIET)
    answers = await c.client.callback_answers()
    assert "hết hạn" in answers[-1].get("text", "")
    # Still at the province step.
    found = await c.send("ha noi", quiet=QUIET)
    assert "Hà Nội" in found[-1].buttons[0][0]


async def test_cancel_works_from_every_kind_of_step(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_description(c)
    await c.send("một phần câu chuyện", quiet=QUIET)
    cancelled = await c.send("/cancel", quiet=QUIET)
    assert (
        "Nothing was sent" in cancelled[-1].text or "Chưa" in cancelled[-1].text or "hủy" in cancelled[-1].text.lower()
    )
    after = await c.send("chữ bất kỳ", quiet=QUIET)
    assert "rp:" not in str(after[-1].buttons)
    assert await all_tips(bot) == []


async def test_no_commune_match_then_without_diacritics_and_unknown(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_province(c)
    ward_q = await choose_hanoi(c)
    assert "Hà Nội" in ward_q[-1].text and "không dấu" in ward_q[-1].text
    none = await c.send("zzzz", quiet=QUIET)
    assert "Không có xã, phường nào" in none[-1].text and "ít chữ hơn" in none[-1].text
    found = await c.send("hoan kiem", quiet=QUIET)
    labels = [label for label, _d in found[-1].buttons]
    assert "Phường Hoàn Kiếm" in labels
    assert any("Không rõ" in label for label in labels)
    nxt = await tap(c, "rp:ward:unknown")
    assert "không rõ" in texts(nxt) and "Bỏ qua" in nxt[-1].buttons[0][0]


async def test_over_limit_place_detail_is_refused_and_form_goes_on(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_place_detail(c)
    refused = await c.send("x" * 501, quiet=QUIET)
    assert "501" in refused[-1].text and "500" in refused[-1].text
    ok = await c.send("Ngõ 12, gần chợ", quiet=QUIET)
    assert ok[-1].keyboard and "⚠️" in ok[-1].text


async def test_bad_and_future_dates_then_a_typed_date(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_when(c)
    bad = await c.send("hôm kia", quiet=QUIET)
    assert "25/12/2025" in bad[-1].text and bad[-1].buttons
    impossible = await c.send("31/02/2024", quiet=QUIET)
    assert "không đọc được" in impossible[-1].text
    future = await c.send("01/01/2999", quiet=QUIET)
    assert "chưa tới" in future[-1].text
    good = await c.send("5-3-2024", quiet=QUIET)
    assert "05/03/2024" in texts(good) and "Chuyện gì đã xảy ra" in good[-1].text


async def test_long_text_is_refused_kept_aside_and_truncation_works(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_description(c)
    empty = await tap(c, "rp:desc:done", expect=False)
    assert empty == []
    assert "kể lại sự việc" in (await c.client.callback_answers())[-1].get("text", "")
    first = await c.send("Phần đầu.", quiet=QUIET)
    assert "9/4.000" in first[-1].text
    refused = await c.send("y" * 4500, quiet=QUIET)
    text = refused[-1].text
    assert "4.500" in text and "3.990" in text and "4.000" in text
    fit = refused[-1].button("3.990")
    assert fit == "rp:desc:fit"
    added = await tap(c, "rp:desc:fit")
    assert f"{DESCRIPTION_MAX_CHARS:,}".replace(",", ".") + "/4.000" in added[-1].text
    await tap(c, "rp:desc:done")
    await tap(c, "rp:ev:skip")
    summary = await tap(c, "rp:anon:anonymous")
    assert "Phần đầu." in summary[-1].text
    await send_and_get_code(c)
    [tip] = await all_tips(bot)
    assert tip.description == "Phần đầu.\n" + "y" * 3990


async def test_location_pin_is_kept_and_keyboard_removed(bot: RunningBot) -> None:
    c = bot.citizen()
    await to_place_detail(c)
    question = await tap(c, "rp:place:skip")
    assert "nhà bạn" in question[-1].text
    await c.client.send_location(c.user, 21.0285, 105.8542)
    saved = await c.replies(quiet=QUIET)
    assert saved[0].raw.get("reply_markup", {}).get("remove_keyboard") is True
    assert "Việc xảy ra khi nào" in saved[-1].text
