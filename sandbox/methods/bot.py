"""Bot-level methods: getMe, commands, menu button, callback answers, descriptions, close/logOut."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.registry import api_method
from sandbox.params import Params
from sandbox.state import JSON, World

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


@api_method("getMe")
async def get_me(world: World, params: Params) -> JSON:
    """The bot's own User."""
    return world.bot_user(full=True)


@api_method("close", "logOut")
async def close(world: World, params: Params) -> bool:
    """Accepted and ignored: there is no real server to leave."""
    return True


def _commands_key(params: Params) -> str:
    scope = params.get_json("scope") or {"type": "default"}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps({"scope": scope, "language_code": params.get_str("language_code") or ""}, sort_keys=True)


@api_method("setMyCommands")
async def set_my_commands(world: World, params: Params) -> bool:
    """Store the command list for a scope + language."""
    commands = params.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean: list[JSON] = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_RE.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(item.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": item["command"], "description": description})
    world.commands[_commands_key(params)] = clean
    return True


@api_method("getMyCommands")
async def get_my_commands(world: World, params: Params) -> list[JSON]:
    """The command list stored for exactly this scope + language."""
    return world.commands.get(_commands_key(params), [])


@api_method("deleteMyCommands")
async def delete_my_commands(world: World, params: Params) -> bool:
    """Forget the command list of a scope + language."""
    world.commands.pop(_commands_key(params), None)
    return True


@api_method("setChatMenuButton")
async def set_chat_menu_button(world: World, params: Params) -> bool:
    """Store the menu button (per chat or default)."""
    button = params.get_json("menu_button") or {"type": "default"}
    world.menu_buttons[params.get_str("chat_id") or ""] = button
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(world: World, params: Params) -> Any:
    """The stored menu button (default: commands)."""
    key = params.get_str("chat_id") or ""
    return world.menu_buttons.get(key, world.menu_buttons.get("", {"type": "commands"}))


_SETTINGS = {
    "setmydescription": ("description", "description"),
    "setmyshortdescription": ("short_description", "short_description"),
    "setmyname": ("name", "name"),
}


async def _set_setting(world: World, params: Params, field: str) -> bool:
    key = f"{field}:{params.get_str('language_code') or ''}"
    world.bot_settings[key] = params.get_str(field) or ""
    return True


async def _get_setting(world: World, params: Params, field: str) -> JSON:
    key = f"{field}:{params.get_str('language_code') or ''}"
    default = "TinBáo Sandbox" if field == "name" else ""
    return {field: world.bot_settings.get(key, default)}


@api_method("setMyDescription")
async def set_my_description(world: World, params: Params) -> bool:
    """Store the bot description."""
    return await _set_setting(world, params, "description")


@api_method("getMyDescription")
async def get_my_description(world: World, params: Params) -> JSON:
    """The stored bot description."""
    return await _get_setting(world, params, "description")


@api_method("setMyShortDescription")
async def set_my_short_description(world: World, params: Params) -> bool:
    """Store the bot short description."""
    return await _set_setting(world, params, "short_description")


@api_method("getMyShortDescription")
async def get_my_short_description(world: World, params: Params) -> JSON:
    """The stored bot short description."""
    return await _get_setting(world, params, "short_description")


@api_method("setMyName")
async def set_my_name(world: World, params: Params) -> bool:
    """Store the bot name."""
    return await _set_setting(world, params, "name")


@api_method("getMyName")
async def get_my_name(world: World, params: Params) -> JSON:
    """The stored bot name."""
    return await _get_setting(world, params, "name")


@api_method("answerCallbackQuery")
async def answer_callback_query(world: World, params: Params) -> bool:
    """Record the bot's answer to a button press; each query can be answered once."""
    record = world.callbacks.get(params.require_str("callback_query_id"))
    if record is None or record.answered:
        raise bad_request(_QUERY_INVALID)
    record.answered = True
    record.answer = {
        "callback_query_id": record.id,
        "chat_id": record.chat_id,
        "message_id": record.message_id,
        "data": record.data,
        "text": params.get_str("text"),
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time"),
    }
    world.callback_answers.append(record.answer)
    return True
