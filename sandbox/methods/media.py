"""Media sending methods (sendPhoto, sendDocument, ..., sendMediaGroup) and getFile."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.errors import bad_request
from sandbox.media import MAX_DOWNLOAD_SIZE, media_field
from sandbox.methods.common import caption_fields, commit_send, prepare_send
from sandbox.methods.registry import api_method
from sandbox.params import Params
from sandbox.state import JSON, World

_META_KEYS = ("width", "height", "duration", "title", "performer", "file_name", "mime_type")
GROUP_KINDS = {"photo", "video", "document", "audio"}


def _meta(params: Params) -> dict[str, Any]:
    return {k: params.values[k] for k in _META_KEYS if params.has(k)}


async def _send_media(world: World, params: Params, kind: str) -> JSON:
    ctx = prepare_send(world, params)
    value = params.media(kind)
    if value is None or value == "":
        raise bad_request(f"there is no {kind} in the request")
    content: JSON = {kind: media_field(world, kind, value, _meta(params))}
    if kind == "sticker":
        content[kind]["emoji"] = params.get_str("emoji") or "🙂"
    else:
        content.update(caption_fields(params))
    if params.get_bool("has_spoiler"):
        content["has_media_spoiler"] = True
    return commit_send(world, ctx, [content])[0].data


@api_method("sendPhoto")
async def send_photo(world: World, params: Params) -> JSON:
    """Send a photo (upload, file_id or URL)."""
    return await _send_media(world, params, "photo")


@api_method("sendVideo")
async def send_video(world: World, params: Params) -> JSON:
    """Send a video."""
    return await _send_media(world, params, "video")


@api_method("sendDocument")
async def send_document(world: World, params: Params) -> JSON:
    """Send a general file."""
    return await _send_media(world, params, "document")


@api_method("sendVoice")
async def send_voice(world: World, params: Params) -> JSON:
    """Send a voice note."""
    return await _send_media(world, params, "voice")


@api_method("sendAudio")
async def send_audio(world: World, params: Params) -> JSON:
    """Send an audio file."""
    return await _send_media(world, params, "audio")


@api_method("sendAnimation")
async def send_animation(world: World, params: Params) -> JSON:
    """Send a GIF/animation."""
    return await _send_media(world, params, "animation")


@api_method("sendSticker")
async def send_sticker(world: World, params: Params) -> JSON:
    """Send a sticker."""
    return await _send_media(world, params, "sticker")


@api_method("sendMediaGroup")
async def send_media_group(world: World, params: Params) -> list[JSON]:
    """Send an album of 2-10 items; returns the list of Messages sharing a media_group_id."""
    ctx = prepare_send(world, params)
    items = params.get_json("media")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media in the group: must include 2-10 items")
    contents: list[JSON] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in GROUP_KINDS:
            raise bad_request("can't parse InputMedia: unsupported media type")
        kind = str(item["type"])
        value = params.resolve_media(item.get("media"))
        if not value:
            raise bad_request("there is no media in the request")
        item_params = Params(dict(item), params.uploads)
        content: JSON = {kind: media_field(world, kind, value, _meta(item_params))}
        content.update(caption_fields(item_params))
        contents.append(content)
    ctx.markup = None  # albums cannot carry a keyboard
    group_id = str(secrets.randbits(63))
    return [m.data for m in commit_send(world, ctx, contents, extra={"media_group_id": group_id})]


@api_method("getFile")
async def get_file(world: World, params: Params) -> JSON:
    """Describe a file for download; 400 for files over 20 MB, like Telegram."""
    stored = world.files.get(params.require_str("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > MAX_DOWNLOAD_SIZE:
        raise bad_request("file is too big")
    return stored.as_file()
