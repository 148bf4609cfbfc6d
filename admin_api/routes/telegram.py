"""The Telegram webhook: secret header checked in constant time, then the update is handled (plain ASGI)."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiogram.types import Update
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from bot.context import AppContext
from bot.webhook_reply import WebhookReply, current_reply

logger = logging.getLogger(__name__)

SECRET_HEADER = b"x-telegram-bot-api-secret-token"
# Telegram's updates are a few kilobytes (files come as ids); anything far larger is not from Telegram.
MAX_BODY_BYTES = 1_000_000


class TelegramWebhook:
    """POST <WEBHOOK_PATH> as a bare ASGI endpoint, answered before FastAPI's routing and middleware.

    Every citizen step is one such request; FastAPI's stack (exception and exit-stack middleware, routing,
    dependency resolution) cost about a tenth of the bot's CPU per update in the intake benchmark, and this
    route uses none of it. Answers keep FastAPI's shape: `{"detail": ...}` with the same status codes.
    """

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self.path = context.settings.webhook_path
        secret = context.settings.webhook_secret
        self._secret = secret.get_secret_value().encode() if secret else b""

    def handles(self, scope: Scope) -> bool:
        """True for HTTP requests to the webhook path."""
        return bool(scope["type"] == "http" and scope["path"] == self.path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check, parse and handle one update; answer with the held-back call, if any."""
        if scope["method"] != "POST":
            await _answer(send, 405, {"detail": "Method Not Allowed"}, allow=b"POST")
            return
        given = next((value for name, value in scope["headers"] if name == SECRET_HEADER), b"")
        if not self._secret or not hmac.compare_digest(given, self._secret):
            logger.warning("webhook call with a wrong or missing secret rejected")
            await _answer(send, 401, {"detail": "wrong secret"})
            return
        body = await _read_body(receive)
        if body is None:
            await _answer(send, 413, {"detail": "too large"})
            return
        try:
            # Straight from bytes: pydantic's JSON parser skips building Python dicts first.
            update = Update.model_validate_json(body, context={"bot": self._context.bot})
        except (ValidationError, ValueError):
            await _answer(send, 400, {"detail": "not an update"})
            return
        reply = WebhookReply(self._context.bot)
        token = current_reply.set(reply)
        try:
            # Handled before answering: if the process dies now, Telegram delivers the update again.
            await self._context.dispatcher.feed_update(self._context.bot, update)
        except Exception:
            # No text or ids: only the update number and the error type reach the log.
            logger.exception("webhook update %d failed", update.update_id)
            await _answer(send, 500, {"detail": "Internal Server Error"})
            return
        finally:
            reply.open = False
            current_reply.reset(token)
        # A held-back call (a button's "answerCallbackQuery") rides on the answer: one HTTP request less.
        await _answer(send, 200, reply.body() or {})


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it passes MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, Any], *, allow: bytes | None = None) -> None:
    """A JSON answer, encoded as FastAPI's JSONResponse does."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
