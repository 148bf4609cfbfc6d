"""Text-ish sending methods plus editing, deleting, copying and forwarding messages."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.common import (
    caption_fields,
    commit_send,
    find_chat,
    find_message,
    inline_only,
    message_text,
    prepare_send,
    reply_markup,
)
from sandbox.methods.registry import api_method
from sandbox.params import Params
from sandbox.state import JSON, StoredMessage, World, now_ts

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# Fields that describe the message itself rather than its content; not carried by copies.
_ENVELOPE = {
    "message_id",
    "from",
    "chat",
    "date",
    "reply_to_message",
    "reply_markup",
    "edit_date",
    "forward_origin",
    "media_group_id",
    "has_protected_content",
    "message_thread_id",
}


@api_method("sendMessage")
async def send_message(world: World, params: Params) -> JSON:
    """Send a text message."""
    ctx = prepare_send(world, params)
    text, entities = message_text(params)
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    preview = params.get_json("link_preview_options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    return commit_send(world, ctx, [content])[0].data


@api_method("sendLocation")
async def send_location(world: World, params: Params) -> JSON:
    """Send a point on the map."""
    ctx = prepare_send(world, params)
    latitude, longitude = params.get_float("latitude"), params.get_float("longitude")
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong location specified")
    location: JSON = {"latitude": latitude, "longitude": longitude}
    accuracy = params.get_float("horizontal_accuracy")
    if accuracy is not None:
        location["horizontal_accuracy"] = accuracy
    return commit_send(world, ctx, [{"location": location}])[0].data


@api_method("sendContact")
async def send_contact(world: World, params: Params) -> JSON:
    """Send a phone contact."""
    ctx = prepare_send(world, params)
    contact: JSON = {"phone_number": params.require_str("phone_number"), "first_name": params.require_str("first_name")}
    if params.has("last_name"):
        contact["last_name"] = params.get_str("last_name")
    return commit_send(world, ctx, [{"contact": contact}])[0].data


@api_method("sendChatAction")
async def send_chat_action(world: World, params: Params) -> bool:
    """Show a chat action; only validated, nothing is stored."""
    ctx = prepare_send(world, params)
    del ctx
    if params.get_str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _editable(world: World, params: Params) -> StoredMessage:
    if params.has("inline_message_id"):
        raise bad_request("message to edit not found")
    chat = find_chat(world, params.values.get("chat_id"))
    message = find_message(chat, params.get_int("message_id"), "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(world: World, message: StoredMessage, fields: JSON, markup: JSON | None) -> JSON:
    """Replace content fields and markup, enforcing "not modified" and recording history."""
    old = message.data
    new_inline = inline_only(markup)
    same_fields = all(old.get(k) == (v or None) for k, v in fields.items())
    if same_fields and old.get("reply_markup") == new_inline:
        raise bad_request(NOT_MODIFIED)
    message.history.append(
        {
            "text": old.get("text"),
            "caption": old.get("caption"),
            "reply_markup": message.markup,
            "edit_date": old.get("edit_date", old["date"]),
        }
    )
    data = dict(old)
    for key, value in fields.items():
        if value:
            data[key] = value
        else:
            data.pop(key, None)
    # Telegram drops the inline keyboard when an edit does not repeat it.
    data.pop("reply_markup", None)
    if new_inline is not None:
        data["reply_markup"] = new_inline
    data["edit_date"] = now_ts()
    message.data = data
    message.markup = markup
    world.touch_message(message)
    return data


def _edit_markup(params: Params) -> JSON | None:
    markup = reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


@api_method("editMessageText")
async def edit_message_text(world: World, params: Params) -> JSON:
    """Edit the text of a bot message."""
    message = _editable(world, params)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(params)
    fields: JSON = {"text": text, "entities": entities}
    preview = params.get_json("link_preview_options")
    if isinstance(preview, dict) and preview:
        fields["link_preview_options"] = preview
    return _apply_edit(world, message, fields, _edit_markup(params))


@api_method("editMessageCaption")
async def edit_message_caption(world: World, params: Params) -> JSON:
    """Edit the caption of a bot media message."""
    message = _editable(world, params)
    if "text" in message.data:
        raise bad_request("there is no caption in the message to edit")
    captions = caption_fields(params)
    fields: JSON = {"caption": captions.get("caption"), "caption_entities": captions.get("caption_entities")}
    return _apply_edit(world, message, fields, _edit_markup(params))


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: World, params: Params) -> JSON:
    """Replace (or remove) the inline keyboard of a bot message."""
    message = _editable(world, params)
    return _apply_edit(world, message, {}, _edit_markup(params))


def _delete(world: World, message: StoredMessage) -> None:
    message.deleted = True
    world.touch_message(message)


@api_method("deleteMessage")
async def delete_message(world: World, params: Params) -> bool:
    """Delete one message."""
    chat = find_chat(world, params.values.get("chat_id"))
    _delete(world, find_message(chat, params.get_int("message_id"), "message to delete not found"))
    return True


@api_method("deleteMessages")
async def delete_messages(world: World, params: Params) -> bool:
    """Delete several messages; missing ones are skipped, as documented by Telegram."""
    chat = find_chat(world, params.values.get("chat_id"))
    ids = params.get_json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids is empty")
    for message_id in ids:
        message = chat.messages.get(int(message_id))
        if message is not None and not message.deleted:
            _delete(world, message)
    return True


def _source(world: World, params: Params, missing: str) -> StoredMessage:
    chat = find_chat(world, params.values.get("from_chat_id"))
    return find_message(chat, params.get_int("message_id"), missing)


def _content_of(data: JSON) -> JSON:
    return {k: v for k, v in data.items() if k not in _ENVELOPE}


@api_method("copyMessage")
async def copy_message(world: World, params: Params) -> JSON:
    """Copy a message without a link to the original; returns MessageId."""
    source = _source(world, params, "message to copy not found")
    ctx = prepare_send(world, params)
    content = _content_of(source.data)
    if params.has("caption") and "text" not in content:
        content.pop("caption_entities", None)
        content.update(caption_fields(params))
    return {"message_id": commit_send(world, ctx, [content])[0].message_id}


@api_method("forwardMessage")
async def forward_message(world: World, params: Params) -> JSON:
    """Forward a message, adding forward_origin."""
    source = _source(world, params, "message to forward not found")
    ctx = prepare_send(world, params)
    ctx.markup = None
    origin: dict[str, Any] = {"type": "user", "sender_user": source.data.get("from"), "date": source.date}
    if source.data.get("forward_origin"):
        origin = source.data["forward_origin"]
    content = {**_content_of(source.data), "forward_origin": origin}
    return commit_send(world, ctx, [content])[0].data
