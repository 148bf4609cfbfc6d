"""Create stored files and the Bot API media objects (PhotoSize, Document, ...) describing them."""

from __future__ import annotations

import secrets
import struct
from typing import Any

from sandbox.errors import bad_request
from sandbox.jpeg import jpeg_size, solid_jpeg
from sandbox.params import Upload
from sandbox.state import JSON, StoredFile, World

THUMB_SIDE = 90
DEFAULT_PHOTO_SIZE = (1280, 960)
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MEDIA_KINDS = ("photo", "video", "document", "voice", "audio", "sticker", "animation", "video_note")
_EXTENSIONS = {
    "photo": "jpg",
    "video": "mp4",
    "voice": "oga",
    "audio": "mp3",
    "sticker": "webp",
    "animation": "mp4",
    "video_note": "mp4",
}
_DEFAULT_MIME = {"video": "video/mp4", "voice": "audio/ogg", "audio": "audio/mpeg", "animation": "video/mp4"}


def image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height of a JPEG or PNG, if recognisable."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return jpeg_size(content)


def generated_photo(width: int, height: int) -> bytes:
    """A fresh valid JPEG; the random comment keeps each picture's bytes (and hash) distinct."""
    return solid_jpeg(width, height, comment=b"tinbao-sandbox " + secrets.token_hex(8).encode())


def _thumb_dims(width: int, height: int) -> tuple[int, int]:
    scale = THUMB_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def add_photo(world: World, content: bytes | None, width: int | None = None, height: int | None = None) -> list[JSON]:
    """Store a picture as a thumbnail + full size, like Telegram's several PhotoSize entries."""
    if content is None:
        width, height = width or DEFAULT_PHOTO_SIZE[0], height or DEFAULT_PHOTO_SIZE[1]
        full_bytes = generated_photo(width, height)
        thumb_bytes = generated_photo(*_thumb_dims(width, height))
    else:
        detected = image_size(content) or DEFAULT_PHOTO_SIZE
        width, height = width or detected[0], height or detected[1]
        # Without an image library the "thumbnail" keeps the original bytes; only its dimensions differ.
        full_bytes = thumb_bytes = content
    tw, th = _thumb_dims(width, height)
    thumb = world.add_file("photo", thumb_bytes, "jpg", width=tw, height=th)
    full = world.add_file("photo", full_bytes, "jpg", width=width, height=height)
    group = [thumb.file_id, full.file_id]
    thumb.photo_group = full.photo_group = group
    return [file_object(thumb), file_object(full)]


def add_file_of_kind(world: World, kind: str, content: bytes, meta: dict[str, Any]) -> StoredFile:
    """Store a non-photo file with Telegram-like defaults for its metadata."""
    file_name = meta.get("file_name")
    extension = _EXTENSIONS.get(kind)
    if extension is None:
        extension = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "bin"
    clean: dict[str, Any] = {"mime_type": meta.get("mime_type") or _DEFAULT_MIME.get(kind)}
    if file_name:
        clean["file_name"] = str(file_name)
    if kind in ("video", "animation", "video_note", "sticker"):
        clean["width"] = int(meta.get("width") or (512 if kind == "sticker" else 640))
        clean["height"] = int(meta.get("height") or (512 if kind == "sticker" else 360))
    if kind in ("video", "voice", "audio", "animation", "video_note"):
        clean["duration"] = int(meta.get("duration") or 1)
    if meta.get("file_size"):
        clean["file_size"] = int(meta["file_size"])
    if meta.get("source_url"):
        clean["source_url"] = str(meta["source_url"])
    return world.add_file(kind, content, extension, **clean)


def file_object(stored: StoredFile, extra: JSON | None = None) -> JSON:
    """The Bot API object for a stored file (PhotoSize, Document, Video, Voice, Audio, Sticker...)."""
    obj: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.file_size}
    if stored.kind == "photo":
        obj.update(width=stored.width or 1, height=stored.height or 1)
        return obj
    if stored.kind == "sticker":
        obj.update(type="regular", width=stored.width or 512, height=stored.height or 512)
        obj.update(is_animated=False, is_video=False)
    if stored.kind in ("video", "animation", "video_note"):
        obj.update(width=stored.width or 640, height=stored.height or 360)
    if stored.kind in ("video", "voice", "audio", "animation", "video_note"):
        obj["duration"] = stored.duration or 1
    if stored.kind == "video_note":
        obj["length"] = obj.pop("width")
        obj.pop("height")
    if stored.file_name and stored.kind not in ("voice", "sticker", "video_note"):
        obj["file_name"] = stored.file_name
    if stored.mime_type and stored.kind != "sticker":
        obj["mime_type"] = stored.mime_type
    if extra:
        obj.update(extra)
    return obj


def media_field(world: World, kind: str, value: Upload | str, meta: dict[str, Any]) -> Any:
    """Value of the Message field `kind` for media given as upload, file_id or URL."""
    if isinstance(value, Upload):
        if kind == "photo":
            return add_photo(world, value.content)
        merged = {"file_name": value.filename, "mime_type": value.content_type, **meta}
        return file_object(add_file_of_kind(world, kind, value.content, merged))
    if value.startswith(("http://", "https://")):
        # The sandbox cannot fetch URLs; it records the URL and serves an empty file.
        if kind == "photo":
            photo = add_photo(world, None)
            for size in photo:
                world.files[size["file_id"]].source_url = value
            return photo
        return file_object(add_file_of_kind(world, kind, b"", {**meta, "source_url": value}))
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if kind == "photo":
        if stored.kind != "photo":
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as Photo")
        return [file_object(world.files[fid]) for fid in stored.photo_group or [stored.file_id]]
    return file_object(stored)


def message_media(data: JSON) -> JSON | None:
    """{"type", "file_id"} of the media in a Message (largest photo size), or None."""
    for kind in MEDIA_KINDS:
        value = data.get(kind)
        if isinstance(value, list) and value:
            return {"type": kind, "file_id": value[-1]["file_id"]}
        if isinstance(value, dict):
            return {"type": kind, "file_id": value["file_id"]}
    return None
