"""End to end with aiogram's Dispatcher: long polling and webhook (with the reply-in-response feature)."""

from __future__ import annotations

import asyncio
import contextlib

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from sandbox.client import SandboxClient, SandboxUser, button_data


def _router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Gửi tin báo", callback_data="new")]])
        # Returning the method (not awaiting it) lets aiogram answer inside the webhook response.
        return message.answer("Xin chào!", reply_markup=markup)

    @router.callback_query(F.data == "new")
    async def new_report(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text("Hãy mô tả sự việc.")

    return router


async def test_polling_dispatcher_round_trip(bot: Bot, client: SandboxClient, citizen: SandboxUser) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        sent = await client.send_text(citizen, "/start")
        hello = await client.wait_for_message(citizen.id, sent["message_id"])
        assert hello["text"] == "Xin chào!"
        await client.press(citizen, hello["message_id"], button_data(hello, "tin báo"))
        edited = await client.wait_for_message(
            citizen.id, 0, predicate=lambda m: m["text"] == "Hãy mô tả sự việc.", timeout=5
        )
        assert edited["edits"] == 1 and edited["reply_markup"] is None
        for _ in range(50):
            if await client.callback_answers():
                break
            await asyncio.sleep(0.02)
        assert len(await client.callback_answers()) == 1
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await polling


async def test_webhook_dispatcher_with_secret_and_multipart_reply(
    bot: Bot, client: SandboxClient, citizen: SandboxUser
) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(_router())
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token="hook_secret").register(
        app, path="/tg"
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="hook_secret")
        sent = await client.send_text(citizen, "/start")
        hello = await client.wait_for_message(citizen.id, sent["message_id"])
        assert hello["text"] == "Xin chào!" and button_data(hello, "Gửi") == "new"
        assert [r["via"] for r in await client.requests("sendMessage")] == ["webhook_response"]
        assert (await client.webhook())["failures"] == []
    finally:
        await runner.cleanup()
