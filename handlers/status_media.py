"""Turning a Telegram message with a file into an attachment reference for a follow-up."""

from __future__ import annotations

from aiogram.types import Message

from storage.domain import AttachmentKind
from storage.tips import NewAttachment


def attachment_of(message: Message) -> NewAttachment | None:
    """The file a message carries (the largest photo size), or None."""
    if message.photo:
        best = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return NewAttachment(AttachmentKind.PHOTO, best.file_id, best.file_unique_id, best.file_size, "image/jpeg")
    if message.video:
        v = message.video
        return NewAttachment(AttachmentKind.VIDEO, v.file_id, v.file_unique_id, v.file_size, v.mime_type)
    if message.document:
        d = message.document
        return NewAttachment(AttachmentKind.DOCUMENT, d.file_id, d.file_unique_id, d.file_size, d.mime_type)
    if message.voice:
        vo = message.voice
        return NewAttachment(AttachmentKind.VOICE, vo.file_id, vo.file_unique_id, vo.file_size, vo.mime_type)
    if message.audio:
        a = message.audio
        return NewAttachment(AttachmentKind.AUDIO, a.file_id, a.file_unique_id, a.file_size, a.mime_type)
    if message.video_note:
        n = message.video_note
        return NewAttachment(AttachmentKind.VIDEO_NOTE, n.file_id, n.file_unique_id, n.file_size, "video/mp4")
    return None


def may_carry_metadata(message: Message) -> bool:
    """A photo or video sent as a file keeps its metadata (place, phone model); Telegram strips it otherwise."""
    document = message.document
    if document is None:
        return False
    mime = (document.mime_type or "").lower()
    name = (document.file_name or "").lower()
    return mime.startswith(("image/", "video/")) or name.endswith((".jpg", ".jpeg", ".heic", ".png", ".mp4", ".mov"))
