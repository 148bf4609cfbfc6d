"""Officers link their Telegram account for content-free urgent alerts: /link CODE from the officer API."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import _
from bot.unit import UpdateUnit
from storage.alerts import looks_like_link_code, redeem_link_code
from storage.audit import record_audit
from storage.errors import NotFound, TooManyAttempts
from storage.privacy import PrivacyKeys
from storage.reporters import ReporterRef
from storage.throttle import ensure_allowed, record_attempt

logger = logging.getLogger(__name__)
router = Router(name="officer_link")
THROTTLE_BUCKET = "link"


def _usage_text() -> str:
    return _(
        "To get alerts as an officer, open the officer app, create a link code, "
        "then send it here like this: /link ABCD1234"
    )


@router.message(Command("link"), F.chat.type == ChatType.PRIVATE)
async def link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    unit: UpdateUnit,
    reporter: ReporterRef,
    keys: PrivacyKeys,
    settings: Settings,
) -> None:
    """Check the one-time code; on success the chat is stored sealed for urgent alerts."""
    code = (command.args or "").strip()
    if not looks_like_link_code(code):  # free: only code-shaped input costs a try
        await message.answer(_usage_text())
        return
    # Same limits as receipt codes: a wrong guess costs a try, keyed by the pseudonymous account.
    key_hash = keys.state_hash(THROTTLE_BUCKET, reporter.key_hash.hex())
    window = timedelta(seconds=settings.status_window_seconds)
    try:
        await ensure_allowed(
            session, bucket=THROTTLE_BUCKET, key_hash=key_hash, limit=settings.status_max_attempts, window=window
        )
    except TooManyAttempts as blocked:
        minutes = max(1, math.ceil(blocked.retry_after / 60))
        await message.answer(_("Too many tries. Please try again in about {minutes} minutes.").format(minutes=minutes))
        return
    try:
        officer = await redeem_link_code(session, keys=keys, code=code, chat_id=message.chat.id)
    except NotFound:
        await record_attempt(session, bucket=THROTTLE_BUCKET, key_hash=key_hash)
        await unit.commit()
        await message.answer(
            _("This code does not work. It may be mistyped, used or expired. Please create a new code and try again.")
        )
        return
    await record_audit(session, officer_id=officer.id, action="telegram_linked")
    await unit.commit()  # durable before the officer is told it worked
    logger.info("officer %d linked a Telegram chat for alerts", officer.id)
    await message.answer(_("Linked: you will receive content-free alerts for urgent tips."))


@router.message(Command("link"))
async def link_elsewhere(message: Message) -> None:
    """Alerts go to a private chat only, never to a group."""
    await message.answer(_("Please send /link in a private chat with the bot."))
