"""The comparison peer: python-telegram-bot's AIORateLimiter sending a list of chats (bench group only).

An ExtBot with AIORateLimiter (overall_max_rate per second, max_retries for 429s) paces the sends,
either one coroutine per recipient gathered at once (the common idiom) or a bounded pool of senders.
It keeps nothing durable: no delivery rows, no resume after a crash. The product never imports this.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass
class PeerResult:
    """What the peer saw from its side."""

    sent: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def ptb_broadcast(
    base_url: str,
    token: str,
    chats: Sequence[int],
    text: str,
    *,
    rate: float,
    connections: int,
    max_retries: int = 5,
    style: str = "workers",
) -> PeerResult:
    """Send `text` to every chat through PTB's AIORateLimiter at `rate` msg/s, via the Bot API at base_url.

    style "gather": one coroutine per recipient, all gathered at once (the common PTB idiom);
    "workers": `connections` coroutines each sending the next recipient (bounded, like our window).
    """
    from telegram.constants import ParseMode
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1, max_retries=max_retries)
    request = HTTPXRequest(connection_pool_size=connections, pool_timeout=60.0, read_timeout=30.0)
    bot: ExtBot[int] = ExtBot(token, base_url=f"{base_url}/bot", request=request, rate_limiter=limiter)
    result = PeerResult()

    async def one(chat: int) -> None:
        try:
            await bot.send_message(chat, text, parse_mode=ParseMode.HTML)
        except Exception as exc:  # a benchmark counts failures instead of stopping
            result.errors[type(exc).__name__] += 1
        else:
            result.sent += 1

    async def pool() -> None:
        queue = iter(chats)  # a shared iterator: each worker takes the next chat
        await asyncio.gather(*(drain(queue) for _ in range(connections)))

    async def drain(queue: Iterator[int]) -> None:
        for chat in queue:
            await one(chat)

    async with bot:
        started = time.perf_counter()
        if style == "gather":
            await asyncio.gather(*(one(chat) for chat in chats))
        else:
            await pool()
        result.seconds = time.perf_counter() - started
    return result
