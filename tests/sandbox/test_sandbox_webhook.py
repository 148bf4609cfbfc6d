"""Webhook mode: pushes with the secret header, 409 for getUpdates, retries, reply in the response body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiohttp import web

from sandbox.client import SandboxClient, SandboxUser


@dataclass
class Receiver:
    """A tiny webhook endpoint recording what it gets."""

    url: str = ""
    updates: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    fail_first: int = 0
    reply: dict[str, Any] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        self.updates.append(await request.json())
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        self.arrived.set()
        if self.reply is not None:
            reply, self.reply = self.reply, None
            return web.json_response(reply)
        return web.Response()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.updates) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    target.url = f"http://127.0.0.1:{port}/hook"
    yield target
    await runner.cleanup()


async def test_webhook_push_with_secret_and_conflict(
    bot: Bot, client: SandboxClient, citizen: SandboxUser, receiver: Receiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token="s3cret_Token-1")
    info = await bot.get_webhook_info()
    assert info.url == receiver.url
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    first = await client.send_text(citizen, "/start")
    await client.send_text(citizen, "hai")
    await receiver.wait_for(2)
    assert [u["update_id"] for u in receiver.updates] == [first["update_id"], first["update_id"] + 1]
    assert receiver.updates[0]["message"]["text"] == "/start"
    assert receiver.secrets == ["s3cret_Token-1", "s3cret_Token-1"]
    await client.redeliver(first["update_id"])
    await receiver.wait_for(3)
    assert receiver.updates[2]["update_id"] == first["update_id"]
    assert (await client.webhook())["delivered"] == 3

    assert await bot.delete_webhook()
    await client.send_text(citizen, "polling again")
    updates = await bot.get_updates(timeout=1)
    assert updates[-1].message is not None and updates[-1].message.text == "polling again"
    assert len(receiver.updates) == 3


async def test_webhook_retries_and_reply_in_response(
    bot: Bot, client: SandboxClient, citizen: SandboxUser, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    receiver.reply = {"method": "sendMessage", "chat_id": citizen.id, "text": "Đã nhận tin báo"}
    await bot.set_webhook(receiver.url)
    await client.send_text(citizen, "tin báo")
    reply = await client.wait_for_message(citizen.id, 0, timeout=5)
    assert reply["text"] == "Đã nhận tin báo"
    hook = await client.webhook()
    assert len(hook["failures"]) == 2 and "500" in hook["failures"][0]["error"]
    assert (await client.requests("sendMessage"))[0]["via"] == "webhook_response"
    info = await bot.get_webhook_info()
    assert info.last_error_message and info.pending_update_count == 0


async def test_webhook_keeps_order_per_chat(bot: Bot, client: SandboxClient, receiver: Receiver) -> None:
    await bot.set_webhook(receiver.url)
    users = [SandboxUser(id=200 + i, first_name=f"U{i}") for i in range(3)]
    for n in range(4):
        for user in users:
            await client.send_text(user, f"{user.id}-{n}")
    await receiver.wait_for(12)
    for user in users:
        texts = [u["message"]["text"] for u in receiver.updates if u["message"]["chat"]["id"] == user.id]
        assert texts == [f"{user.id}-{n}" for n in range(4)]
