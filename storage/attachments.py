"""Attachments as officers reach them: by tip and 1-based position, inside the officer's scope."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Attachment, Tip
from storage.scope import Scope

# Telegram's Bot API refuses to hand out files above this size (getFile: "file is too big").
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


async def get_scoped_attachment(
    session: AsyncSession, *, tip_id: int, index: int, scope: Scope
) -> tuple[Tip, Attachment]:
    """The tip and its `index`-th attachment (1-based, by id); NotFound when missing or out of scope."""
    tip = await session.scalar(select(Tip).where(Tip.id == tip_id, scope.tip_clause()))
    if tip is None or index < 1:
        raise NotFound("attachment")
    attachment = await session.scalar(
        select(Attachment).where(Attachment.tip_id == tip.id).order_by(Attachment.id).offset(index - 1).limit(1)
    )
    if attachment is None:
        raise NotFound("attachment")
    return tip, attachment


def too_big_to_download(attachment: Attachment) -> bool:
    """True when Telegram will not let the bot download this file."""
    return attachment.size is not None and attachment.size > TELEGRAM_DOWNLOAD_LIMIT
