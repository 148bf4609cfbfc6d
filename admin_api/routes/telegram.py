"""The Telegram webhook: secret header checked in constant time, then the update is handled."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from aiogram.types import Update
from fastapi import APIRouter, Header, HTTPException, Request, status
from pydantic import ValidationError

from bot.context import AppContext
from bot.webhook_reply import WebhookReply, current_reply

logger = logging.getLogger(__name__)


def webhook_router(context: AppContext) -> APIRouter:
    """A router with the webhook route at the configured path."""
    router = APIRouter(tags=["telegram"])
    secret = context.settings.webhook_secret.get_secret_value().encode() if context.settings.webhook_secret else b""

    @router.post(context.settings.webhook_path, include_in_schema=False)
    async def telegram_webhook(
        request: Request,
        x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        given = (x_telegram_bot_api_secret_token or "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            logger.warning("webhook call with a wrong or missing secret rejected")
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong secret")
        try:
            # Straight from bytes: pydantic's JSON parser skips building Python dicts first.
            update = Update.model_validate_json(await request.body(), context={"bot": context.bot})
        except (ValidationError, ValueError):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "not an update") from None
        reply = WebhookReply(context.bot)
        token = current_reply.set(reply)
        try:
            # Handled before answering: if the process dies now, Telegram delivers the update again.
            await context.dispatcher.feed_update(context.bot, update)
        finally:
            reply.open = False
            current_reply.reset(token)
        # A held-back call (a button's "answerCallbackQuery") rides on the answer: one HTTP request less.
        return reply.body() or {}

    return router
