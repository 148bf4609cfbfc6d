"""Shared checks and builders for sending methods: chat lookup, blocks, flood control, markup."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ApiError, bad_request, too_many_requests
from sandbox.formatting import Entity, render, utf16_len
from sandbox.params import Params
from sandbox.state import JSON, ChatState, StoredMessage, World, now_ts

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


def find_chat(world: World, raw: Any) -> ChatState:
    """Resolve chat_id (number or @username) to a chat the bot knows; 400 "chat not found" otherwise."""
    if raw in (None, ""):
        raise bad_request("chat_id is empty")
    text = str(raw)
    if text.startswith("@"):
        for known in world.chats.values():
            if known.chat.get("username", "").lower() == text[1:].lower():
                return known
        raise bad_request("chat not found")
    try:
        chat_id = int(text)
    except ValueError:
        raise bad_request("chat not found") from None
    chat = world.chats.get(chat_id)
    if chat is None:
        raise bad_request("chat not found")
    return chat


def check_blocked(world: World, chat: ChatState) -> None:
    """403 like Telegram when the user blocked the bot."""
    if int(chat.chat["id"]) in world.behaviour.blocked_chats:
        raise ApiError(403, "Forbidden: bot was blocked by the user")


def check_rate(world: World, chat: ChatState, cost: int) -> None:
    """Apply flood control (if enabled) for `cost` messages to this chat."""
    if not world.behaviour.limits_enabled:
        return
    retry_after = world.limiter.acquire(int(chat.chat["id"]), cost)
    if retry_after is not None:
        raise too_many_requests(retry_after)


def formatted(params: Params, key: str, mode_key: str, entities_key: str) -> tuple[str, list[Entity]]:
    """Text (or caption) after parse_mode/entities processing."""
    text = params.get_str(key) or ""
    mode = params.get_str(mode_key)
    explicit = params.get_json(entities_key)
    if explicit:
        # Explicit entities win over parse_mode, as in Telegram.
        return text, list(explicit)
    return render(text, mode)


def message_text(params: Params) -> tuple[str, list[Entity]]:
    """Validated message text for sendMessage/editMessageText."""
    text, entities = formatted(params, "text", "parse_mode", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message text is too long")
    return text, entities


def caption_fields(params: Params, prefix: str = "") -> JSON:
    """Caption + caption_entities message fields (possibly empty)."""
    source = Params(
        {
            "caption": params.values.get(prefix + "caption"),
            "parse_mode": params.values.get(prefix + "parse_mode"),
            "caption_entities": params.values.get(prefix + "caption_entities"),
        }
    )
    caption, entities = formatted(source, "caption", "parse_mode", "caption_entities")
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    out: JSON = {}
    if caption:
        out["caption"] = caption
        if entities:
            out["caption_entities"] = entities
    return out


def _check_inline(markup: JSON) -> None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
            kinds = {
                "callback_data",
                "url",
                "web_app",
                "login_url",
                "switch_inline_query",
                "pay",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "callback_game",
                "copy_text",
            }
            if not kinds & set(button):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field"
                )


def _normalise_keyboard(markup: JSON) -> JSON:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    out = copy.deepcopy(markup)
    # Telegram accepts bare strings as buttons; normalise to KeyboardButton objects.
    out["keyboard"] = [[b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows]
    for row in out["keyboard"]:
        for button in row:
            if not button.get("text"):
                raise bad_request("keyboard button text is empty")
    return out


def reply_markup(params: Params, key: str = "reply_markup") -> JSON | None:
    """Validated reply_markup as sent (inline keyboard, reply keyboard, remove_keyboard or force_reply)."""
    markup = params.get_json(key)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline(markup)
        return markup
    if "keyboard" in markup:
        return _normalise_keyboard(markup)
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_only(markup: JSON | None) -> JSON | None:
    """The part of a markup Telegram echoes back in Message objects (only inline keyboards)."""
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None


def strip_reply(data: JSON) -> JSON:
    """A message as embedded in reply_to_message (without its own reply_to_message)."""
    return {k: v for k, v in data.items() if k != "reply_to_message"}


def reply_target(chat: ChatState, params: Params) -> JSON | None:
    """The message being replied to (reply_parameters or legacy reply_to_message_id)."""
    reply = params.get_json("reply_parameters") or {}
    if not isinstance(reply, dict):
        raise bad_request("can't parse reply parameters JSON object")
    message_id = reply.get("message_id") or params.get_int("reply_to_message_id")
    if not message_id:
        return None
    allow_missing = bool(reply.get("allow_sending_without_reply") or params.get_bool("allow_sending_without_reply"))
    target = chat.messages.get(int(message_id))
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return strip_reply(target.data)


@dataclass
class SendContext:
    """Everything shared by the messages one sending call produces."""

    chat: ChatState
    markup: JSON | None
    reply_to: JSON | None
    protect: bool


def prepare_send(world: World, params: Params) -> SendContext:
    """Chat lookup, block check and common options of a sending method."""
    chat = find_chat(world, params.values.get("chat_id"))
    check_blocked(world, chat)
    return SendContext(
        chat=chat,
        markup=reply_markup(params),
        reply_to=reply_target(chat, params),
        protect=params.get_bool("protect_content"),
    )


def commit_send(world: World, ctx: SendContext, contents: list[JSON], extra: JSON | None = None) -> list[StoredMessage]:
    """Apply flood control, then store one bot message per content dict."""
    check_rate(world, ctx.chat, len(contents))
    stored: list[StoredMessage] = []
    for index, content in enumerate(contents):
        data: JSON = {
            "message_id": world.allocate_message_id(ctx.chat),
            "from": world.bot_user(),
            "chat": dict(ctx.chat.chat),
            "date": now_ts(),
        }
        if ctx.reply_to is not None and index == 0:
            data["reply_to_message"] = ctx.reply_to
        if ctx.protect:
            data["has_protected_content"] = True
        data.update(extra or {})
        data.update(content)
        markup = ctx.markup if index == len(contents) - 1 else None
        inline = inline_only(markup)
        if inline is not None:
            data["reply_markup"] = inline
        stored.append(world.store_message(ctx.chat, True, data, markup))
    world.stats.sends_per_chat[int(ctx.chat.chat["id"])] += len(contents)
    return stored


def find_message(chat: ChatState, message_id: int | None, missing: str) -> StoredMessage:
    """A live message of the chat; 400 with Telegram's `missing` description otherwise."""
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        raise bad_request(missing)
    return message
