"""The draft tip as plain JSON in FSM data: the story's parts, files, dates, and the final NewTip."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from aiogram.types import Message

from storage.domain import (
    DESCRIPTION_MAX_CHARS,
    MAX_ATTACHMENTS,
    Anonymity,
    AttachmentKind,
    Category,
    WhenKind,
)
from storage.tips import NewAttachment, NewTip

VIETNAM = timezone(timedelta(hours=7))
_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
Draft = dict[str, Any]


def today() -> date:
    """Today's date in Vietnam, whatever the server's zone."""
    return datetime.now(VIETNAM).date()


class DateError(ValueError):
    """A typed date that cannot be used; `future` tells which message to show."""

    def __init__(self, *, future: bool) -> None:
        super().__init__("future" if future else "unreadable")
        self.future = future


def parse_date(text: str) -> date:
    """dd/mm/yyyy, d/m/yyyy or dd-mm-yyyy; past or today only."""
    match = _DATE.match(text)
    if not match:
        raise DateError(future=False)
    day, month, year = (int(g) for g in match.groups())
    try:
        value = date(year, month, day)
    except ValueError as exc:
        raise DateError(future=False) from exc
    if value > today():
        raise DateError(future=True)
    if value.year < 1900:
        raise DateError(future=False)
    return value


def description(draft: Draft) -> str:
    """The story: every part in the order the citizen sent it."""
    parts = sorted(draft.get("parts", []), key=lambda p: p[0])
    return "\n".join(text for _mid, text in parts)


def room_left(draft: Draft) -> int:
    """How many characters a new part may have (the joining newline counts)."""
    current = description(draft)
    separator = 1 if current else 0
    return max(0, DESCRIPTION_MAX_CHARS - len(current) - separator)


def add_part(draft: Draft, message_id: int, text: str) -> bool:
    """Append a part if it fits; otherwise keep it as `overflow` and return False."""
    if len(text) > room_left(draft):
        draft["overflow"] = text
        draft["overflow_id"] = message_id
        return False
    draft.setdefault("parts", []).append([message_id, text])
    draft.pop("overflow", None)
    draft.pop("overflow_id", None)
    return True


def add_overflow_head(draft: Draft) -> bool:
    """Append the first characters of the refused part that still fit."""
    text = draft.get("overflow")
    fits = room_left(draft)
    if not text or fits <= 0:
        return False
    draft.setdefault("parts", []).append([int(draft.get("overflow_id", 0)), text[:fits]])
    draft.pop("overflow", None)
    draft.pop("overflow_id", None)
    return True


def attachment_of(message: Message) -> dict[str, Any] | None:
    """The file reference of a media message (largest photo size), or None."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return _ref(AttachmentKind.PHOTO, best.file_id, best.file_unique_id, best.file_size, "image/jpeg")
    for kind, media in (
        (AttachmentKind.VIDEO, message.video),
        (AttachmentKind.DOCUMENT, message.document),
        (AttachmentKind.VOICE, message.voice),
        (AttachmentKind.AUDIO, message.audio),
        (AttachmentKind.VIDEO_NOTE, message.video_note),
    ):
        if media is not None:
            mime = getattr(media, "mime_type", None)
            return _ref(kind, media.file_id, media.file_unique_id, media.file_size, mime)
    return None


def _ref(kind: AttachmentKind, file_id: str, unique: str, size: int | None, mime: str | None) -> dict[str, Any]:
    return {"kind": kind.value, "file_id": file_id, "file_unique_id": unique, "size": size, "mime_type": mime}


def add_file(draft: Draft, ref: dict[str, Any]) -> bool:
    """Keep a file if the limit allows."""
    files: list[dict[str, Any]] = draft.setdefault("files", [])
    if len(files) >= MAX_ATTACHMENTS:
        return False
    files.append(ref)
    return True


def first_of_album(draft: Draft, group_id: str | None) -> bool:
    """True for a single file or the first file seen of an album (so an album is answered once)."""
    if group_id is None:
        return True
    seen: list[str] = draft.setdefault("albums", [])
    if group_id in seen:
        return False
    seen.append(group_id)
    del seen[:-5]  # only recent albums matter
    return True


def build_tip(draft: Draft, locale: str) -> NewTip:
    """The NewTip for storage.tips.create_tip (which validates it)."""
    anonymity = Anonymity(draft["anonymity"])
    identified = anonymity is Anonymity.IDENTIFIED
    occurred = draft.get("occurred_on")
    return NewTip(
        category=Category(draft["category"]),
        urgent=bool(draft.get("urgent")),
        province_code=int(draft["province"]),
        ward_code=draft.get("ward"),
        when_kind=WhenKind(draft["when"]),
        occurred_on=date.fromisoformat(occurred) if occurred else None,
        description=description(draft),
        anonymity=anonymity,
        locale=locale,
        place_detail=draft.get("place_detail"),
        latitude=draft.get("lat"),
        longitude=draft.get("lon"),
        identity_name=draft.get("id_name") if identified else None,
        identity_phone=draft.get("id_phone") if identified else None,
        attachments=tuple(
            NewAttachment(
                kind=AttachmentKind(f["kind"]),
                file_id=f["file_id"],
                file_unique_id=f["file_unique_id"],
                size=f.get("size"),
                mime_type=f.get("mime_type"),
            )
            for f in draft.get("files", [])
        ),
    )


def occurred_for(kind: WhenKind) -> date | None:
    """The date a relative answer means, when it means one day."""
    if kind is WhenKind.TODAY:
        return today()
    if kind is WhenKind.YESTERDAY:
        return today() - timedelta(days=1)
    return None
