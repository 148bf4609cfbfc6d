"""Send one Bot API call as the webhook's HTTP answer instead of a request of its own, as Telegram allows."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import AnswerCallbackQuery
from aiogram.methods.base import Response, TelegramMethod, TelegramType

from bot.telegram_session import TelegramSession

if TYPE_CHECKING:
    from aiogram import Bot

# Calls whose result nobody reads and whose delay by a few milliseconds nobody sees: Telegram performs a
# webhook answer after the update's own calls, so only "stop the button's spinner" qualifies.
DEFERRABLE = (AnswerCallbackQuery,)


@dataclass(slots=True)
class WebhookReply:
    """The one call an update may hand back in its webhook answer."""

    bot: Bot
    method: TelegramMethod[Any] | None = None
    open: bool = True  # closed when the update is done: later calls (from spawned tasks) go out normally

    def body(self) -> dict[str, Any] | None:
        """The webhook answer: {"method": ..., parameters}, or None when nothing was handed back."""
        if self.method is None:
            return None
        session = self.bot.session
        params = session.json_body(self.bot, self.method) if isinstance(session, TelegramSession) else None
        if params is None:  # not expected for the deferrable calls; say it plainly instead of losing the call
            raise RuntimeError(f"{self.method.__api_method__} cannot be sent as a webhook answer")
        return {"method": self.method.__api_method__, **params}


current_reply: ContextVar[WebhookReply | None] = ContextVar("tinbao_webhook_reply", default=None)


class WebhookReplyMiddleware(BaseRequestMiddleware):
    """Hold back the first deferrable call of a webhook update; the webhook route sends it as its answer."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Defer the call when the update allows it, else make it."""
        reply = current_reply.get()
        deferrable = isinstance(method, DEFERRABLE)
        if deferrable and reply is not None and reply.open and reply.method is None and reply.bot is bot:
            reply.method = method
            return cast(Response[TelegramType], True)  # what Telegram answers to answerCallbackQuery
        return await make_request(bot, method)
