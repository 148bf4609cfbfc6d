"""Build the updates a (simulated) user produces: messages, albums and button presses."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any

from sandbox.errors import ControlError
from sandbox.formatting import utf16_len
from sandbox.media import add_file_of_kind, add_photo, file_object
from sandbox.methods.common import strip_reply
from sandbox.state import JSON, CallbackRecord, ChatState, World, now_ts

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_FILE_KINDS = ("document", "video", "voice", "audio", "animation", "video_note")
CONTENT_KINDS = ("text", "photo", "sticker", "contact", "location", *_FILE_KINDS)


def _decode(spec: JSON, key: str = "content_b64") -> bytes | None:
    raw = spec.get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise ControlError(400, f"{key} is not valid base64") from None


def _user_and_chat(world: World, body: JSON) -> tuple[JSON, ChatState]:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or not user.get("first_name"):
        raise ControlError(400, "user must be an object with integer id and first_name")
    private = world.ensure_user(user)
    chat = body.get("chat")
    if isinstance(chat, dict):
        if not isinstance(chat.get("id"), int) or chat.get("type") not in ("group", "supergroup", "channel"):
            raise ControlError(400, "chat must have an integer id and a group/supergroup/channel type")
        return world.users[user["id"]], world.ensure_chat(chat)
    return world.users[user["id"]], private


def command_entities(text: str) -> list[JSON]:
    """Telegram's bot_command entity for text starting with a /command."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


def _content(world: World, spec: JSON) -> JSON:
    """Message content fields for one control-API message/album item."""
    content: JSON = {}
    if isinstance(spec.get("text"), str) and spec["text"]:
        content["text"] = spec["text"]
        entities = command_entities(spec["text"])
        if entities:
            content["entities"] = entities
    if isinstance(spec.get("photo"), dict):
        photo = spec["photo"]
        content["photo"] = add_photo(world, _decode(photo), photo.get("width"), photo.get("height"))
    for kind in _FILE_KINDS:
        if isinstance(spec.get(kind), dict):
            item: dict[str, Any] = spec[kind]
            data = _decode(item)
            if data is None:
                data = f"tinbao-sandbox {kind} {secrets.token_hex(8)}".encode()
            content[kind] = file_object(add_file_of_kind(world, kind, data, item))
    if isinstance(spec.get("sticker"), dict):
        stored = add_file_of_kind(world, "sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 " + secrets.token_bytes(16), {})
        content["sticker"] = file_object(stored, {"emoji": spec["sticker"].get("emoji") or "😀"})
    if isinstance(spec.get("contact"), dict):
        contact = spec["contact"]
        if not contact.get("phone_number") or not contact.get("first_name"):
            raise ControlError(400, "contact needs phone_number and first_name")
        content["contact"] = {
            k: contact[k]
            for k in ("phone_number", "first_name", "last_name", "user_id", "vcard")
            if contact.get(k) is not None
        }
    if isinstance(spec.get("location"), dict):
        location = spec["location"]
        try:
            content["location"] = {"latitude": float(location["latitude"]), "longitude": float(location["longitude"])}
        except (KeyError, TypeError, ValueError):
            raise ControlError(400, "location needs numeric latitude and longitude") from None
    kinds = [k for k in CONTENT_KINDS if k in content]
    if len(kinds) != 1:
        raise ControlError(400, f"give exactly one of {', '.join(CONTENT_KINDS)} (got {kinds or 'none'})")
    if spec.get("caption") and "text" not in content:
        content["caption"] = str(spec["caption"])
    return content


def _add_user_message(world: World, user: JSON, chat: ChatState, content: JSON, body: JSON) -> tuple[int, int]:
    data: JSON = {
        "message_id": world.allocate_message_id(chat),
        "from": user,
        "chat": dict(chat.chat),
        "date": now_ts(),
    }
    reply_id = body.get("reply_to_message_id")
    if isinstance(reply_id, int):
        target = chat.messages.get(reply_id)
        if target is None or target.deleted:
            raise ControlError(400, "reply_to_message_id does not exist in this chat")
        data["reply_to_message"] = strip_reply(target.data)
    data.update(content)
    world.store_message(chat, False, data, None)
    update_id = world.enqueue_update({"message": data})
    return update_id, int(data["message_id"])


def user_message(world: World, body: JSON) -> JSON:
    """A user sends one message to the bot."""
    user, chat = _user_and_chat(world, body)
    content = _content(world, body)
    if body.get("media_group_id"):
        content["media_group_id"] = str(body["media_group_id"])
    update_id, message_id = _add_user_message(world, user, chat, content, body)
    return {"update_id": update_id, "message_id": message_id}


def user_album(world: World, body: JSON) -> JSON:
    """A user sends an album: one message per item sharing a fresh media_group_id."""
    user, chat = _user_and_chat(world, body)
    items = body.get("items")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise ControlError(400, "items must be a list of 2-10 media items")
    contents = []
    for item in items:
        if not isinstance(item, dict) or not any(k in item for k in ("photo", "video", "document", "audio")):
            raise ControlError(400, "album items must be photo, video, document or audio")
        contents.append(_content(world, item))
    group_id = str(secrets.randbits(63))
    # Telegram puts the album caption on the first item.
    if body.get("caption") and "caption" not in contents[0]:
        contents[0]["caption"] = str(body["caption"])
    results = []
    for content in contents:
        content["media_group_id"] = group_id
        results.append(_add_user_message(world, user, chat, content, {}))
    return {
        "media_group_id": group_id,
        "update_ids": [r[0] for r in results],
        "message_ids": [r[1] for r in results],
    }


def _button_datas(markup: JSON | None) -> set[str]:
    if not markup:
        return set()
    rows = markup.get("inline_keyboard") or []
    return {str(b["callback_data"]) for row in rows for b in row if "callback_data" in b}


def press_button(world: World, body: JSON) -> JSON:
    """A user presses an inline button; stale presses are rejected unless force is true."""
    user, chat = _user_and_chat(world, body)
    message_id, data = body.get("message_id"), body.get("data")
    if not isinstance(message_id, int) or not isinstance(data, str):
        raise ControlError(400, "message_id (int) and data (str) are required")
    message = chat.messages.get(message_id)
    live = message is not None and not message.deleted
    if not body.get("force"):
        if not live:
            raise ControlError(400, "message not found in this chat")
        if data not in _button_datas(message.data.get("reply_markup") if message else None):
            raise ControlError(400, "the message has no button with this callback_data")
    if message is not None and live:
        shown: JSON = message.data
    else:
        # Telegram sends an InaccessibleMessage (date 0) for messages the bot can no longer see.
        shown = {"chat": dict(chat.chat), "message_id": message_id, "date": 0}
    query_id = str(secrets.randbits(63))
    query = {"id": query_id, "from": user, "message": shown, "chat_instance": chat.chat_instance, "data": data}
    world.callbacks[query_id] = CallbackRecord(query_id, int(chat.chat["id"]), message_id, data)
    update_id = world.enqueue_update({"callback_query": query})
    return {"update_id": update_id, "callback_query_id": query_id}


def raw_update(world: World, body: JSON) -> JSON:
    """Enqueue an arbitrary update, remembering chats and users it mentions."""
    update = body.get("update", body)
    if not isinstance(update, dict) or not [k for k in update if k != "update_id"]:
        raise ControlError(400, "the update must contain one update field besides update_id")
    for value in update.values():
        if isinstance(value, dict):
            if isinstance(value.get("from"), dict) and not value["from"].get("is_bot"):
                world.ensure_user(value["from"])
            if isinstance(value.get("chat"), dict) and "id" in value["chat"]:
                world.ensure_chat(value["chat"])
    return {"update_id": world.enqueue_update(dict(update))}
