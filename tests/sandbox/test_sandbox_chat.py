"""The terminal chat: input parsing, rendering, button answers, and a piped-stdin session against a tiny fake bot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from sandbox.chat import Action, ChatSession, keyboard_choices, parse_line, render_keyboard, render_message
from sandbox.client import SandboxClient, SandboxUser
from sandbox.runner import RunningSandbox

ROOT = Path(__file__).resolve().parents[2]


def test_parse_line() -> None:
    assert parse_line("xin chào") == Action("text", ("xin chào",))
    assert parse_line("2") == Action("press", ("2",))
    assert parse_line("/start abc") == Action("text", ("/start abc",))
    assert parse_line("/photo ~/a.jpg") == Action("photo", ("~/a.jpg",))
    assert parse_line("/contact +8490 Nguyễn Văn A") == Action("contact", ("+8490", "Nguyễn Văn A"))
    assert parse_line("/location 21.02, 105.85") == Action("location", ("21.02", "105.85"))
    assert parse_line("/location x").kind == "error"
    assert parse_line("/QUIT") == Action("quit")
    assert parse_line("   ") == Action("empty")


def test_render_message_and_keyboard() -> None:
    view: dict[str, Any] = {
        "message_id": 3,
        "text": "Dòng 1\nDòng 2",
        "media": None,
        "deleted": False,
        "reply_markup": {
            "inline_keyboard": [[{"text": "Có", "callback_data": "y"}, {"text": "Web", "url": "https://x"}]]
        },
    }
    lines = render_message(view, edited=False, first_number=1)
    assert lines == ["🤖 Dòng 1", "   Dòng 2", "   [1] Có   [2] Web (🔗 https://x)"]
    assert render_message(view, edited=True, first_number=None)[-1] == "   • Có   • Web (🔗 https://x)"
    assert render_message({**view, "deleted": True}, False, None) == ["🗑  (bot deleted message #3)"]
    keyboard = keyboard_choices({"keyboard": [[{"text": "Số", "request_contact": True}], [{"text": "Bỏ qua"}]]})
    assert render_keyboard(keyboard, 1) == "   ⌨  [1] Số (📱 share contact)   [2] Bỏ qua"


async def _fake_bot(base_url: str, token: str) -> None:
    """Answers like a minimal TinBáo flow, through the plain Bot API over HTTP."""
    api = f"{base_url}/bot{token}/"
    offset = 0
    async with aiohttp.ClientSession() as http:

        async def call(method: str, **params: Any) -> Any:
            form = {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()}
            async with http.post(api + method, data=form) as response:
                return (await response.json())["result"]

        while True:
            for update in await call("getUpdates", offset=offset, timeout=1):
                offset = update["update_id"] + 1
                if "callback_query" in update:
                    query = update["callback_query"]
                    chat_id = query["message"]["chat"]["id"]
                    await call("answerCallbackQuery", callback_query_id=query["id"], text="Đang mở mẫu tin báo")
                    await call(
                        "editMessageText",
                        chat_id=chat_id,
                        message_id=query["message"]["message_id"],
                        text="Đang tạo tin báo",
                    )
                    keyboard = {"keyboard": [[{"text": "📱 Chia sẻ số", "request_contact": True}]]}
                    await call("sendMessage", chat_id=chat_id, text="Gửi số điện thoại?", reply_markup=keyboard)
                    continue
                message = update["message"]
                chat_id = message["chat"]["id"]
                if message.get("text") == "/start":
                    markup = {"inline_keyboard": [[{"text": "Báo cáo", "callback_data": "report"}]]}
                    await call("sendMessage", chat_id=chat_id, text="Xin chào!", reply_markup=markup)
                elif "contact" in message:
                    await call(
                        "sendMessage",
                        chat_id=chat_id,
                        text=f"Cảm ơn {message['contact']['phone_number']}",
                        reply_markup={"remove_keyboard": True},
                    )
                elif "location" in message:
                    await call("sendMessage", chat_id=chat_id, text="Đã nhận vị trí")


@pytest.fixture
async def fake_bot(sandbox: RunningSandbox, token: str) -> AsyncIterator[None]:
    task = asyncio.create_task(_fake_bot(sandbox.base_url, token))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_chat_cli_with_piped_stdin(sandbox: RunningSandbox, token: str, fake_bot: None) -> None:
    lines = ["/start", "1", "1", "0901234567", "/location 21.03 105.85", "/quit"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.chat",
        "--url",
        sandbox.base_url,
        "--token",
        token,
        "--wait",
        "3",
        # Generous so a slow CI machine cannot split one bot reply burst across two inputs.
        "--quiet",
        "1.0",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate("\n".join(lines).encode() + b"\n"), 20)
    output = stdout.decode()
    assert process.returncode == 0, stderr.decode()
    assert "🤖 Xin chào!" in output and "[1] Báo cáo" in output
    assert "✎  (edited) Đang tạo tin báo" in output
    assert "🔔 Đang mở mẫu tin báo" in output  # the button's answer, a toast in Telegram's apps
    assert "[1] 📱 Chia sẻ số (📱 share contact)" in output
    assert "🤖 Cảm ơn 0901234567" in output
    assert "🤖 Đã nhận vị trí" in output


def test_session_numbers_buttons_after_edit_and_keyboard_in_one_batch() -> None:
    lines: list[str] = []

    async def ask(prompt: str) -> str | None:
        return None

    session = ChatSession(cast(SandboxClient, None), SandboxUser(1, "A"), lines.append, ask)
    inline = {"inline_keyboard": [[{"text": "Báo cáo", "callback_data": "r"}]]}
    session._absorb([{"message_id": 2, "text": "Xin chào", "reply_markup": inline, "deleted": False}])
    assert [c.label for c in session.choices] == ["Báo cáo"]
    edited = {"message_id": 2, "text": "Đang tạo", "reply_markup": None, "deleted": False}
    keyboard = {"message_id": 3, "text": "Số?", "deleted": False, "reply_markup": {"keyboard": [[{"text": "📱"}]]}}
    session._absorb([edited, keyboard])
    assert [c.label for c in session.choices] == ["📱"]
    assert lines[-1] == "   ⌨  [1] 📱"
