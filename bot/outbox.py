"""The outbox: officers' replies and status notices, sent to one tipster each through the bot.

Its own lane: it calls the Bot API directly (429 and 5xx are retried by the bot session's RetryMiddleware),
so it never queues behind campaign broadcasts. Logs carry message and tip ids only, never text or chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound
from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from bot.background import BackgroundTask
from bot.context import AppContext
from bot.i18n import N_, translate
from storage.domain import DeliveryState, MessageAuthor
from storage.models import Tip
from storage.triage import Delivery, Notice, claim_delivery, queue_notice, queued_message_ids, set_delivery_state

logger = logging.getLogger(__name__)

REPLY_HEADER = N_("📩 Message from the police about your tip:")
REPLY_FOOTER = N_("Reply with /status and your receipt code.")
NOTICE_TEXTS: dict[Notice, tuple[str, ...]] = {
    Notice.NEEDS_INFO: (N_("The police have a question about your tip. Use /status and your receipt code to see it."),),
    Notice.CLOSED: (N_("Your tip has been dealt with. See /status."),),
    Notice.CLOSED_VALUABLE: (
        N_("Your tip has been dealt with. See /status."),
        N_("Thank you: your information was valuable."),
    ),
}
# After a transient failure (429 beyond the retry budget, 5xx, network) a message waits this long.
TRANSIENT_BACKOFF = 30.0


def notice_text(notice: Notice, locale: str) -> str:
    """A notice in the tipster's language (plain text: it says nothing about the tip's content)."""
    return "\n".join(translate(part, locale) for part in NOTICE_TEXTS[notice])


def outgoing_text(author: MessageAuthor, body: str, locale: str) -> str:
    """The HTML the tipster receives; officer replies are escaped and never carry the officer's name."""
    if author is MessageAuthor.OFFICER:
        return f"{translate(REPLY_HEADER, locale)}\n\n{html.escape(body)}\n\n{translate(REPLY_FOOTER, locale)}"
    return html.escape(body)


async def queue_status_notice(session: AsyncSession, *, tip: Tip, notice: Notice) -> bool:
    """Queue the notice for a status change; False when the tipster can only read /status."""
    return await queue_notice(session, tip=tip, body=notice_text(notice, tip.locale)) is not None


class Outbox:
    """Delivers queued thread messages; `deliver_pending()` for tests, `start()`/`stop()` for the worker."""

    def __init__(self, context: AppContext, *, poll_seconds: float = 3.0, batch: int = 100) -> None:
        self.context = context
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._background = BackgroundTask("outbox", self._run)
        self._retry_at: dict[int, float] = {}

    def wake(self) -> None:
        """Something was queued: send it now instead of at the next poll."""
        self._wake.set()

    async def deliver_pending(self) -> int:
        """Send every queued message once; returns how many reached a final state."""
        async with self._lock:
            async with self.context.sessions() as session:
                ids = await queued_message_ids(session, limit=self.batch)
            now = time.monotonic()
            finished = 0
            for message_id in ids:
                if self._retry_at.get(message_id, 0.0) > now:
                    continue
                if await self._deliver_one(message_id):
                    finished += 1
            return finished

    async def _deliver_one(self, message_id: int) -> bool:
        """Claim, send and record one message; True once it reached a final state."""
        async with self.context.sessions() as session:
            delivery = await claim_delivery(session, message_id=message_id)
            if delivery is None:
                return False  # already sent, or another process is sending it
            state = await self._send(delivery)
            if state is None:
                self._retry_at[message_id] = time.monotonic() + TRANSIENT_BACKOFF
                return False
            self._retry_at.pop(message_id, None)
            await set_delivery_state(session, message=delivery.message, state=state)
            await session.commit()
        logger.info("outbox: message %d of tip %d %s", message_id, delivery.tip_id, state.value)
        return True

    async def _send(self, delivery: Delivery) -> DeliveryState | None:
        """One Bot API call; the final state, or None to try again later."""
        if delivery.chat_enc is None:
            return DeliveryState.STATUS_ONLY
        try:
            chat_id = int(self.context.keys.decrypt_text(delivery.chat_enc, purpose="chat"))
        except (ValueError, InvalidTag):
            logger.warning("outbox: message %d has an unreadable chat", delivery.message.id)
            return DeliveryState.FAILED
        text = outgoing_text(delivery.message.author, delivery.message.body, delivery.locale)
        try:
            await self.context.bot.send_message(chat_id, text)
        except TelegramForbiddenError:
            return DeliveryState.BLOCKED
        except (TelegramBadRequest, TelegramNotFound):
            return DeliveryState.FAILED
        except Exception as exc:
            logger.warning("outbox: message %d not sent (%s), will retry", delivery.message.id, type(exc).__name__)
            return None
        return DeliveryState.DELIVERED

    def start(self) -> None:
        """Run the worker: wake on `wake()`, and poll so other processes' messages go out too."""
        self._background.start()

    async def stop(self) -> None:
        """Stop the worker (a send in progress is cancelled and stays queued)."""
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception:
                logger.exception("outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
