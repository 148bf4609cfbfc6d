"""Citizen feedback ("Công an lắng nghe ý kiến Nhân dân"): anonymous, kept apart from tips."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import get_province, get_ward
from storage.errors import ValidationFailed
from storage.models import Feedback

FEEDBACK_MAX_CHARS = 2000


async def create_feedback(
    session: AsyncSession, *, province_code: int, ward_code: int | None, body: str, locale: str
) -> Feedback:
    """Store one opinion for the police of an area; nothing links it to the sender."""
    text = body.strip()
    if not text:
        raise ValidationFailed("empty")
    if len(text) > FEEDBACK_MAX_CHARS:
        raise ValidationFailed("too long")
    if await get_province(session, code=province_code) is None:
        raise ValidationFailed("unknown province")
    if ward_code is not None:
        found = await get_ward(session, code=ward_code)
        if found is None or found[1] != province_code:
            raise ValidationFailed("the commune is not in the province")
    row = Feedback(province_code=province_code, ward_code=ward_code, body=text, locale=locale)
    session.add(row)
    await session.flush()
    return row
