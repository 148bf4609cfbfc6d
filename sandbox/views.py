"""Control-API JSON views of stored messages."""

from __future__ import annotations

from sandbox.media import message_media
from sandbox.state import JSON, StoredMessage


def message_view(message: StoredMessage) -> JSON:
    """A flat, test-friendly description of a message (raw holds the Bot API Message)."""
    data = message.data
    reply = data.get("reply_to_message")
    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "text": data.get("text"),
        "caption": data.get("caption"),
        "entities": data.get("entities") or data.get("caption_entities") or [],
        "reply_markup": message.markup,
        "media": message_media(data),
        "contact": data.get("contact"),
        "location": data.get("location"),
        "media_group_id": data.get("media_group_id"),
        "reply_to_message_id": reply.get("message_id") if isinstance(reply, dict) else None,
        "deleted": message.deleted,
        "edits": len(message.history),
        "history": message.history,
        "date": message.date,
        "version": message.version,
        "raw": data,
    }
