"""Content-free Telegram alerts for urgent tips, to linked on-duty officers whose jurisdiction covers them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError

from bot.background import BackgroundTask
from bot.context import AppContext
from bot.i18n import DEFAULT_LOCALE, _, use_locale
from storage.alerts import (
    alert_recipients,
    claim_alert,
    due_alert_tip_ids,
    open_officer_chat,
    release_alert,
    unlink_officer_chat,
)
from storage.audit import record_audit
from storage.models import Officer, utcnow
from storage.scope import Scope

logger = logging.getLogger(__name__)

ALERT_INTERVAL_SECONDS = 5.0
BATCH = 100


@dataclass(frozen=True, slots=True)
class Recipient:
    """An officer who may be alerted, with the jurisdiction checked for each tip."""

    officer_id: int
    scope: Scope
    chat_enc: bytes


@dataclass(slots=True)
class SendOutcome:
    """How one tip's alert went."""

    reached: int = 0
    failed: int = 0


def alert_text(tip_ref: str, *, repeat: bool) -> str:
    """The whole alert: the reference only, never the description, place or category."""
    with use_locale(DEFAULT_LOCALE):
        if repeat:
            return _("🚨 Urgent tip {ref} is still not acknowledged. Open the officer app.").format(ref=tip_ref)
        return _("🚨 New urgent tip {ref} in your area. Open the officer app.").format(ref=tip_ref)


class AlertLoop:
    """Finds urgent tips due for an alert and tells the officers on duty; safe to run in several processes."""

    def __init__(self, context: AppContext, *, interval: float = ALERT_INTERVAL_SECONDS) -> None:
        self.context = context
        self.interval = interval
        self._background = BackgroundTask("urgent-alerts", self._forever)

    @property
    def ack_within(self) -> timedelta:
        """How long an urgent tip may wait for a first response before the alert repeats."""
        return timedelta(hours=self.context.settings.urgent_ack_hours)

    async def run_once(self, *, now: datetime | None = None) -> int:
        """One round; returns how many tips were alerted."""
        now = now or utcnow()
        async with self.context.sessions() as session:
            tip_ids = await due_alert_tip_ids(session, now=now, ack_within=self.ack_within, limit=BATCH)
            if not tip_ids:
                return 0
            recipients = _recipients(await alert_recipients(session))
        alerted = 0
        for tip_id in tip_ids:
            if await self._alert_tip(tip_id, now, recipients):
                alerted += 1
        return alerted

    async def _alert_tip(self, tip_id: int, now: datetime, recipients: Sequence[Recipient]) -> bool:
        """Claim the tip (committed first, so another process skips it), send, then audit."""
        async with self.context.sessions() as session:
            claimed = await claim_alert(session, tip_id=tip_id, now=now, ack_within=self.ack_within)
            await session.commit()
        if claimed is None:
            return False
        tip, previous = claimed
        outcome = SendOutcome()
        blocked: list[int] = []
        text = alert_text(tip.ref, repeat=previous is not None)
        for recipient in recipients:
            if recipient.scope.covers_tip(tip):
                await self._send(recipient, text, outcome, blocked)
        async with self.context.sessions() as session:
            for officer_id in blocked:
                await unlink_officer_chat(session, officer_id=officer_id)
            if outcome.failed and not outcome.reached:
                # Nobody heard about an urgent tip: try again next round rather than in hours.
                await release_alert(session, tip_id=tip.id, claimed_at=now, previous=previous)
            else:
                await record_audit(
                    session,
                    officer_id=None,
                    action="urgent_alert_sent",
                    tip_id=tip.id,
                    detail={"officers": outcome.reached, "repeat": previous is not None},
                )
            await session.commit()
        logger.info("urgent tip %d: alert reached %d officers", tip.id, outcome.reached)
        return outcome.reached > 0 or not outcome.failed

    async def _send(self, recipient: Recipient, text: str, outcome: SendOutcome, blocked: list[int]) -> None:
        """One message; a blocked or vanished chat is unlinked (logs carry the officer id, never the chat)."""
        chat_id = open_officer_chat(self.context.keys, recipient.chat_enc)
        try:
            await self.context.bot.send_message(chat_id, text)
        except TelegramForbiddenError:
            logger.info("officer %d blocked the bot: Telegram link removed", recipient.officer_id)
            blocked.append(recipient.officer_id)
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                logger.info("officer %d chat not found: Telegram link removed", recipient.officer_id)
                blocked.append(recipient.officer_id)
            else:
                logger.warning("officer %d alert refused: %s", recipient.officer_id, type(exc).__name__)
            outcome.failed += 1
        except TelegramAPIError as exc:
            logger.warning("officer %d alert failed: %s", recipient.officer_id, type(exc).__name__)
            outcome.failed += 1
        else:
            outcome.reached += 1

    def start(self) -> None:
        """Run rounds in the background every `interval` seconds."""
        self._background.start()

    async def stop(self) -> None:
        """Stop the background rounds."""
        await self._background.stop()

    async def _forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # a bad round must not end alerting for good
                logger.error("urgent alert round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)


def _recipients(officers: Sequence[Officer]) -> list[Recipient]:
    """Snapshot what the round needs, so no ORM object outlives its session."""
    return [Recipient(o.id, Scope.of(o), o.telegram_chat_enc) for o in officers if o.telegram_chat_enc is not None]
