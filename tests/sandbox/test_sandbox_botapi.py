"""aiogram's real Bot talking to the sandbox over HTTP: receiving, sending, editing, files, commands."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)

from sandbox.client import SandboxClient, SandboxUser, button_data
from sandbox.jpeg import jpeg_size
from sandbox.runner import RunningSandbox


async def _updates(bot: Bot, offset: int = 0) -> list[Update]:
    return await bot.get_updates(offset=offset, timeout=1)


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✅ Gửi", callback_data="send:1")],
            [InlineKeyboardButton(text="Huỷ", callback_data="cancel")],
        ]
    )


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456789 and me.is_bot
    assert me.username == "tinbao_sandbox_bot" and me.first_name == "TinBáo Sandbox"
    assert me.can_join_groups is False


async def test_bad_token_and_unknown_method(sandbox: RunningSandbox, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.base_url}/botnot-a-token/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.get(f"{sandbox.base_url}/bot{bot.token}/GETME") as response:
            assert (await response.json())["result"]["id"] == 123456789
        async with http.post(f"{sandbox.base_url}/bot{bot.token}/fooBar") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
        async with http.post(f"{sandbox.base_url}/bot{bot.token}/getUpdates", json={"timeout": 0}) as response:
            assert await response.json() == {"ok": True, "result": []}
    bad = Bot("42:" + "x" * 30, session=bot.session)
    with pytest.raises(TelegramUnauthorizedError):
        await Bot("42:short", session=bot.session).get_me()
    assert (await bad.get_me()).id == 42


async def test_user_messages_arrive_as_updates(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    sent = await client.send_text(citizen, "/start ref_abc")
    await client.send_photo(citizen, caption="Ảnh hiện trường")
    await client.send_document(citizen, "bao_cao.pdf", b"%PDF-1.4 test", "application/pdf")
    await client.send_contact(citizen, "+84901234567", "Công dân")
    await client.send_location(citizen, 21.0285, 105.8542)
    await client.send_sticker(citizen)
    await client.send_voice(citizen)
    updates = await _updates(bot)
    assert [u.update_id for u in updates] == list(range(sent["update_id"], sent["update_id"] + 7))
    start, photo, document, contact, location, sticker, voice = (u.message for u in updates)
    assert start is not None and start.text == "/start ref_abc" and start.message_id == sent["message_id"]
    assert start.entities is not None and (start.entities[0].type, start.entities[0].length) == ("bot_command", 6)
    assert start.from_user is not None and start.from_user.language_code == "vi"
    assert start.chat.id == citizen.id and start.chat.type == "private"
    assert photo is not None and photo.photo is not None and len(photo.photo) >= 2
    assert photo.caption == "Ảnh hiện trường" and photo.photo[0].width < photo.photo[-1].width
    assert document is not None and document.document is not None
    assert (document.document.file_name, document.document.mime_type) == ("bao_cao.pdf", "application/pdf")
    assert contact is not None and contact.contact is not None and contact.contact.user_id == citizen.id
    assert location is not None and location.location is not None and location.location.latitude == 21.0285
    assert sticker is not None and sticker.sticker is not None
    assert voice is not None and voice.voice is not None
    # Confirming with offset empties the queue.
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_album_is_separate_updates_with_one_group(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    result = await client.send_album(citizen, [{"photo": {}}, {"photo": {}}, {"video": {}}], caption="Ba tệp")
    messages = [u.message for u in await _updates(bot)]
    assert [m.message_id for m in messages if m] == result["message_ids"]
    assert {m.media_group_id for m in messages if m} == {result["media_group_id"]}
    assert messages[0] is not None and messages[0].caption == "Ba tệp"


async def test_send_edit_delete_and_callback(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_text(citizen, "/start")
    sent = await bot.send_message(citizen.id, "<b>Chào</b> &amp; hỏi?", parse_mode="HTML", reply_markup=_keyboard())
    assert sent.text == "Chào & hỏi?" and sent.entities and sent.entities[0].type == "bold"
    assert sent.message_id == 2 and sent.from_user is not None and sent.from_user.is_bot
    view = await client.wait_for_message(citizen.id, 1)
    assert view["text"] == "Chào & hỏi?" and button_data(view, "gửi") == "send:1"

    pressed = await client.press(citizen, sent.message_id, "send:1")
    updates = await _updates(bot)
    query = updates[-1].callback_query
    assert query is not None and query.data == "send:1" and query.id == pressed["callback_query_id"]
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Đã nhận")
    assert (await client.callback_answers())[0]["text"] == "Đã nhận"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)

    edited = await bot.edit_message_text(
        text="Đã gửi", chat_id=citizen.id, message_id=sent.message_id, reply_markup=_keyboard()
    )
    assert not isinstance(edited, bool) and edited.text == "Đã gửi" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Đã gửi", chat_id=citizen.id, message_id=sent.message_id, reply_markup=_keyboard()
        )
    await bot.edit_message_reply_markup(chat_id=citizen.id, message_id=sent.message_id, reply_markup=None)
    [view] = await client.messages(citizen.id)
    assert view["edits"] == 2 and view["reply_markup"] is None

    assert await bot.delete_message(citizen.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(citizen.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=citizen.id, message_id=sent.message_id)
    assert (await client.messages(citizen.id))[0]["deleted"] is True


async def test_send_validation_errors(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(555, "hi")
    await client.send_text(citizen, "hi")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(citizen.id, " ")
    with pytest.raises(TelegramBadRequest, match="message text is too long"):
        await bot.send_message(citizen.id, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(citizen.id, "a < b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
        await bot.send_message(citizen.id, "x", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")
    assert await bot.send_chat_action(citizen.id, "typing")


async def test_reply_keyboard_is_kept_for_control_but_not_in_message(
    bot: Bot, client: SandboxClient, citizen: SandboxUser
) -> None:
    await client.send_text(citizen, "/start")
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📱 Chia sẻ số", request_contact=True)],
            [KeyboardButton(text="📍 Vị trí", request_location=True)],
        ],
        resize_keyboard=True,
    )
    sent = await bot.send_message(citizen.id, "Chọn", reply_markup=keyboard, reply_to_message_id=1)
    assert sent.reply_markup is None and sent.reply_to_message is not None
    [view] = await client.messages(citizen.id)
    assert view["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert view["reply_to_message_id"] == 1


async def test_photo_upload_file_id_and_download(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_text(citizen, "hi")
    picture = b"\xff\xd8 not really a jpeg but any bytes"
    first = await bot.send_photo(
        citizen.id, BufferedInputFile(picture, "p.jpg"), caption="<i>ảnh</i>", parse_mode="HTML"
    )
    assert first.photo and first.caption == "ảnh" and first.caption_entities
    file_id = first.photo[-1].file_id
    again = await bot.send_photo(citizen.id, file_id)
    assert again.photo and again.photo[-1].file_unique_id == first.photo[-1].file_unique_id
    file = await bot.get_file(file_id)
    assert file.file_path and file.file_path.startswith("photos/")
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == picture
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(citizen.id, "unknown-file-id")

    # A user's generated photo is a real JPEG we can download through the Bot API.
    await client.send_photo(citizen)
    [update] = [u for u in await _updates(bot) if u.message and u.message.photo]
    assert update.message is not None and update.message.photo is not None
    biggest = update.message.photo[-1]
    content = await bot.download(biggest.file_id)
    assert content is not None
    assert jpeg_size(content.read()) == (biggest.width, biggest.height)


async def test_document_media_group_copy_and_big_file(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    await client.send_document(citizen, "huge.mp4", b"x", "video/mp4", file_size=21 * 1024 * 1024)
    [update] = await _updates(bot)
    assert update.message is not None and update.message.document is not None
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(update.message.document.file_id)

    doc = await bot.send_document(citizen.id, BufferedInputFile(b"a,b\n1,2\n", "export.csv"))
    assert doc.document is not None and doc.document.file_name == "export.csv"
    assert await client.file_bytes(doc.document.file_id) == b"a,b\n1,2\n"
    album = await bot.send_media_group(
        citizen.id,
        [
            InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg"), caption="Một"),
            InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    copied = await bot.copy_message(citizen.id, citizen.id, album[0].message_id)
    views = await client.messages(citizen.id, after=album[1].message_id)
    assert views[0]["message_id"] == copied.message_id and views[0]["caption"] == "Một"
    forwarded = await bot.forward_message(citizen.id, citizen.id, update.message.message_id)
    assert forwarded.forward_origin is not None


async def test_commands_per_language(bot: Bot, client: SandboxClient) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")], language_code="vi")
    await bot.set_my_commands([BotCommand(command="start", description="Start")], language_code="en")
    await bot.set_my_commands([BotCommand(command="help", description="Help")], scope=BotCommandScopeDefault())
    vi = await bot.get_my_commands(language_code="vi")
    assert [(c.command, c.description) for c in vi] == [("start", "Bắt đầu")]
    assert [c.command for c in await bot.get_my_commands()] == ["help"]
    stored = {entry["language_code"]: entry["commands"] for entry in await client.commands()}
    assert stored["en"] == [{"command": "start", "description": "Start"}]
    assert await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
