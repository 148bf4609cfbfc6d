"""GET /api/v1/tips/{tip_id}/attachments/{n}: the file through the bot, image metadata stripped."""

from __future__ import annotations

import asyncio
import io
import logging
import mimetypes
import re
from collections.abc import AsyncIterator

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from admin_api.deps import ContextDep, CurrentOfficer, IdPath, ScopeDep, SessionDep
from bot.media_clean import CLEANED, NOT_CLEANED, attachment_metadata_state, clean_media
from storage.attachments import TELEGRAM_DOWNLOAD_LIMIT, get_scoped_attachment, too_big_to_download
from storage.audit import record_audit
from storage.models import Attachment

logger = logging.getLogger(__name__)
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
router = APIRouter(tags=["tips"])

METADATA_HEADER = "X-TinBao-Metadata"
DOWNLOAD_TIMEOUT_SECONDS = 120
# Common types first: mimetypes' guesses vary between systems (e.g. .jpe for image/jpeg).
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/plain": ".txt",
}
_TOO_BIG = (
    "This file is larger than Telegram's 20 MB download limit, so it cannot be fetched. "
    "Ask the tipster (reply to the tip) to send a smaller or compressed version."
)
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file (image metadata stripped)."},
    404: {"description": "No such attachment, or the tip is outside your jurisdiction."},
    413: {"description": "Over Telegram's 20 MB download limit; ask the tipster for a smaller file."},
    502: {"description": "Telegram did not hand out the file."},
}


def _extension(mime: str) -> str:
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime, strict=False) or ".bin"


def _headers(ref: str, index: int, mime: str, state: str) -> dict[str, str]:
    """Download headers; the tipster's own file name is never used (it may name them)."""
    headers = {
        "Content-Disposition": f'attachment; filename="{ref}-{index}{_extension(mime)}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    headers[METADATA_HEADER] = "not-cleaned" if state == NOT_CLEANED else "cleaned"
    return headers


def _too_big() -> JSONResponse:
    return JSONResponse(
        {"detail": _TOO_BIG, "code": "file_too_big", "limit_bytes": TELEGRAM_DOWNLOAD_LIMIT},
        status_code=413,  # Content Too Large
    )


def _unreachable() -> JSONResponse:
    return JSONResponse({"detail": "Telegram is not reachable, try again."}, status_code=status.HTTP_502_BAD_GATEWAY)


def _stored_mime(attachment: Attachment) -> str:
    """The type Telegram reported; the tipster's client chose it, so anything odd becomes opaque."""
    mime = (attachment.mime_type or "").split(";")[0].strip().lower()
    if not mime and attachment.kind == "photo":
        return "image/jpeg"
    return mime if _MIME.fullmatch(mime) else "application/octet-stream"


async def _stream(bot: Bot, file_path: str) -> AsyncIterator[bytes]:
    """The file's bytes as the Bot API file URL serves them."""
    url = bot.session.api.file_url(bot.token, file_path)
    async for chunk in bot.session.stream_content(url=url, timeout=DOWNLOAD_TIMEOUT_SECONDS, raise_for_status=True):
        yield chunk


@router.get(
    "/api/v1/tips/{tip_id}/attachments/{n}",
    response_class=Response,
    responses=_RESPONSES,
    summary="Download one attachment of a tip",
)
async def download_attachment(
    tip_id: IdPath, n: IdPath, context: ContextDep, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep
) -> Response:
    """The n-th attachment (1-based, in the order received); images come without EXIF/GPS/XMP."""
    tip, attachment = await get_scoped_attachment(session, tip_id=tip_id, index=n, scope=scope)
    ref, mime, kind = tip.ref, _stored_mime(attachment), attachment.kind
    if too_big_to_download(attachment):
        return _too_big()
    bot = context.bot
    try:
        file = await bot.get_file(attachment.file_id)
    except TelegramBadRequest as exc:
        if "too big" in exc.message.lower():
            return _too_big()
        logger.warning("tip %d attachment %d: getFile refused", tip_id, n)
        return JSONResponse({"detail": "Telegram no longer has this file."}, status_code=status.HTTP_502_BAD_GATEWAY)
    except TelegramAPIError:
        logger.warning("tip %d attachment %d: getFile failed", tip_id, n)
        return _unreachable()
    if not file.file_path:
        return _too_big()  # Telegram leaves file_path out for files it will not serve
    expected = attachment_metadata_state(kind, mime)
    if expected == CLEANED:
        buffer = io.BytesIO()
        try:
            await bot.download_file(file.file_path, destination=buffer, timeout=DOWNLOAD_TIMEOUT_SECONDS)
        except (aiohttp.ClientError, TimeoutError):
            logger.warning("tip %d attachment %d: download failed", tip_id, n)
            return _unreachable()
        result = await asyncio.to_thread(clean_media, buffer.getvalue(), kind=kind, mime=mime)
        await _audit(session, officer.id, tip.id, n, result.state)
        return Response(
            result.data, media_type=result.mime_type, headers=_headers(ref, n, result.mime_type, result.state)
        )
    await _audit(session, officer.id, tip.id, n, NOT_CLEANED)
    return StreamingResponse(_stream(bot, file.file_path), media_type=mime, headers=_headers(ref, n, mime, NOT_CLEANED))


async def _audit(session: SessionDep, officer_id: int, tip_id: int, index: int, state: str) -> None:
    """Record the download before any byte leaves."""
    await record_audit(
        session,
        officer_id=officer_id,
        action="attachment_downloaded",
        tip_id=tip_id,
        detail={"index": index, "metadata": state},
    )
    await session.commit()
