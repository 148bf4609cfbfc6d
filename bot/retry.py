"""Retries for Telegram calls: wait out 429s, back off on 5xx and network errors."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods.base import Response, TelegramMethod, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    """Honour `retry_after` exactly and retry server errors a few times with exponential backoff."""

    def __init__(self, *, max_retry_after: float = 60.0, server_retries: int = 4, base_delay: float = 0.2) -> None:
        self.max_retry_after = max_retry_after
        self.server_retries = server_retries
        self.base_delay = base_delay

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Call the method, retrying as Telegram asks."""
        server_failures = 0
        waited = 0.0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if waited + exc.retry_after > self.max_retry_after:
                    raise
                waited += exc.retry_after
                logger.warning("telegram %s: 429, waiting %ss", method.__api_method__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                server_failures += 1
                if server_failures > self.server_retries:
                    raise
                delay = self.base_delay * 2 ** (server_failures - 1)
                logger.warning(
                    "telegram %s: %s, retry %d in %.1fs",
                    method.__api_method__,
                    type(exc).__name__,
                    server_failures,
                    delay,
                )
                await asyncio.sleep(delay)
