"""Welcome, help, privacy, language, cancel and the catch-all answers."""

from __future__ import annotations

from tests.conftest import RunningBot


async def test_start_in_vietnamese_shows_promise_emergency_numbers_and_menu(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [welcome] = await citizen.send("/start")
    assert "TinBáo" in welcome.text
    assert "/privacy" in welcome.text
    for number in ("113", "114", "115"):
        assert number in welcome.text
    assert "Xin chào" in welcome.text
    assert "📝 Gửi tin báo" in welcome.keyboard
    assert "🔎 Tra cứu tin báo" in welcome.keyboard


async def test_start_in_english_for_english_telegram(bot: RunningBot) -> None:
    citizen = bot.citizen(language_code="en")
    [welcome] = await citizen.send("/start")
    assert welcome.text.startswith("Hello!")
    assert "📝 Send a tip" in welcome.keyboard


async def test_language_switch_is_remembered(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [choice] = await citizen.send("/language")
    [done] = await citizen.press("English", choice)
    assert done.text == "Language set to English."
    [help_message] = await citizen.send("/help")
    assert "send a tip to the police" in help_message.text
    [choice] = await citizen.send("🌐 Language")
    [done] = await citizen.press("Tiếng Việt", choice)
    assert done.text == "Đã chuyển sang tiếng Việt."


async def test_help_privacy_and_menu_buttons(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [help_message] = await citizen.send("❓ Trợ giúp")
    for command in ("/report", "/status", "/privacy", "/cancel", "/language"):
        assert command in help_message.text
    [privacy] = await citizen.send("/privacy")
    assert "Telegram" in privacy.text and "Ẩn danh" in privacy.text


async def test_unknown_input_gets_a_hint_not_silence(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [hint] = await citizen.send("/doesnotexist")
    assert "/help" in hint.text
    [hint] = await citizen.send("xin chào")
    assert "/report" in hint.text
    await citizen.client.send_sticker(citizen.user)
    [sticker] = await citizen.replies()
    assert "nhãn dán" in sticker.text


async def test_cancel_outside_a_flow(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [answer] = await citizen.send("/cancel")
    assert answer.text == "Không có việc gì để hủy."


async def test_expired_button_is_answered(bot: RunningBot) -> None:
    citizen = bot.citizen()
    [welcome] = await citizen.send("/start")
    await citizen.press_data(welcome.message_id, "rp:nothing", force=True, expect=False)
    answers = await bot.client.callback_answers()
    assert answers and "hết hạn" in answers[-1].get("text", "")


async def test_commands_registered_in_both_languages(bot: RunningBot) -> None:
    from bot.commands import register_commands

    await register_commands(bot.context.bot)
    commands = await bot.client.commands()
    assert commands
