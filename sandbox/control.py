"""Control API (JSON under /control/{token}/...): drive simulated users and inspect the world."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.botapi import STATE_KEY, dumps
from sandbox.errors import ControlError
from sandbox.incoming import press_button, raw_update, user_album, user_message
from sandbox.state import JSON, FailRule, World
from sandbox.views import message_view

MAX_WAIT = 60.0
ControlHandler = Callable[[web.Request, World], Awaitable[Any]]


def _endpoint(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler: resolve the world, turn its result into JSON and ControlError into 4xx."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        world = request.app[STATE_KEY].find(request.match_info["token"])
        if world is None:
            return web.json_response(
                {"ok": False, "error": "unknown bot token (no bot has called the API yet)"}, status=404
            )
        try:
            result = await handler(request, world)
        except ControlError as error:
            return web.json_response({"ok": False, "error": error.message}, status=error.status)
        except (KeyError, TypeError, ValueError) as error:
            return web.json_response({"ok": False, "error": f"malformed request: {error!r}"}, status=400)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result, dumps=dumps)

    return wrapped


async def _body(request: web.Request) -> JSON:
    try:
        body = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _number(request: web.Request, key: str, default: float) -> float:
    try:
        return float(request.query.get(key, default))
    except ValueError:
        raise ControlError(400, f"{key} must be a number") from None


async def post_message(request: web.Request, world: World) -> JSON:
    """POST /messages: a user sends a message."""
    return user_message(world, await _body(request))


async def post_album(request: web.Request, world: World) -> JSON:
    """POST /album: a user sends an album."""
    return user_album(world, await _body(request))


async def post_callback(request: web.Request, world: World) -> JSON:
    """POST /callback: a user presses an inline button."""
    return press_button(world, await _body(request))


async def post_raw_update(request: web.Request, world: World) -> JSON:
    """POST /raw_update: enqueue any update object."""
    return raw_update(world, await _body(request))


async def post_redeliver(request: web.Request, world: World) -> JSON:
    """POST /redeliver: deliver an already-sent update again, same update_id."""
    update_id = (await _body(request)).get("update_id")
    if not isinstance(update_id, int) or not world.redeliver(update_id):
        raise ControlError(404, "no update with this update_id was sent")
    return {"update_id": update_id}


async def post_chat(request: web.Request, world: World) -> JSON:
    """POST /chats: make a group chat known to the bot (as if it was added there)."""
    chat = await _body(request)
    if not isinstance(chat.get("id"), int) or not isinstance(chat.get("type"), str):
        raise ControlError(400, "chat needs integer id and type")
    return world.ensure_chat(chat).chat


async def get_messages(request: web.Request, world: World) -> JSON:
    """GET /chats/{chat_id}/messages: messages of a chat, optionally long-polling for new ones."""
    try:
        chat_id = int(request.match_info["chat_id"])
    except ValueError:
        raise ControlError(400, "chat_id must be an integer") from None
    after = int(_number(request, "after_message_id", 0))
    wait = min(max(_number(request, "wait", 0), 0.0), MAX_WAIT)
    include_user = request.query.get("include_user", "0") in ("1", "true")
    since = request.query.get("since_version")
    since_version = int(since) if since and since.lstrip("-").isdigit() else None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        chat = world.chats.get(chat_id)
        found = [
            message_view(m)
            for m in (chat.messages.values() if chat else ())
            if m.message_id > after
            and (include_user or m.from_bot)
            and (since_version is None or m.version > since_version)
        ]
        remaining = deadline - loop.time()
        if found or remaining <= 0 or world.closed:
            return {"messages": found, "version": world.version}
        await world.chat_signal(chat_id).wait(remaining)


async def get_callback_answers(request: web.Request, world: World) -> JSON:
    """GET /callback_answers: the bot's answerCallbackQuery calls."""
    return {"answers": world.callback_answers}


async def get_requests(request: web.Request, world: World) -> JSON:
    """GET /requests?method=...: the Bot API request log."""
    method = request.query.get("method", "").lower()
    records = [r.as_dict() for r in world.request_log if not method or r.method.lower() == method]
    return {"requests": records}


async def get_commands(request: web.Request, world: World) -> JSON:
    """GET /commands: every stored command list with its scope and language."""
    out = []
    for key, commands in world.commands.items():
        meta = json.loads(key)
        out.append({"scope": meta["scope"], "language_code": meta["language_code"], "commands": commands})
    return {"commands": out}


async def get_webhook(request: web.Request, world: World) -> JSON:
    """GET /webhook: registration, pending count and delivery failures."""
    hook = world.webhook
    return {
        "url": hook.url if hook else None,
        "secret_token_set": bool(hook and hook.secret_token),
        "allowed_updates": hook.allowed_updates if hook else None,
        "pending_update_count": len(world.updates),
        "delivered": world.stats.webhook_delivered,
        "failures": world.delivery_failures,
    }


async def get_stats(request: web.Request, world: World) -> JSON:
    """GET /stats: call counts, 429s, 403s, sends per chat."""
    return world.stats.as_dict()


async def get_behaviour(request: web.Request, world: World) -> JSON:
    """GET /behaviour: current switches."""
    return world.behaviour.as_dict()


def _fail_rules(raw: Any) -> list[FailRule]:
    items = raw if isinstance(raw, list) else [raw]
    rules = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("status"), int):
            raise ControlError(400, "fail_next needs {method: str|null, count: int, status: int}")
        method = item.get("method")
        rules.append(
            FailRule(
                str(method) if method else None, int(item.get("count", 1)), item["status"], item.get("description")
            )
        )
    return rules


async def post_behaviour(request: web.Request, world: World) -> JSON:
    """POST /behaviour: change any switch; answers the new state."""
    body = await _body(request)
    behaviour = world.behaviour
    try:
        if "limits_enabled" in body:
            behaviour.limits_enabled = bool(body["limits_enabled"])
        if {"global_rate", "per_chat_rate", "per_chat_burst"} & set(body):
            behaviour.global_rate = float(body.get("global_rate", behaviour.global_rate))
            behaviour.per_chat_rate = float(body.get("per_chat_rate", behaviour.per_chat_rate))
            behaviour.per_chat_burst = int(body.get("per_chat_burst", behaviour.per_chat_burst))
            if behaviour.global_rate <= 0 or behaviour.per_chat_rate <= 0 or behaviour.per_chat_burst < 1:
                raise ControlError(400, "rates must be positive and per_chat_burst at least 1")
            world.limiter.configure(behaviour.global_rate, behaviour.per_chat_rate, behaviour.per_chat_burst)
        behaviour.blocked_chats |= {int(c) for c in body.get("blocked_chats") or []}
        behaviour.blocked_chats -= {int(c) for c in body.get("unblock_chats") or []}
        if body.get("clear_failures"):
            behaviour.fail_rules.clear()
        if body.get("fail_next"):
            behaviour.fail_rules.extend(_fail_rules(body["fail_next"]))
        if "latency_ms" in body:
            behaviour.latency_ms = max(0, int(body["latency_ms"]))
        if "webhook_concurrency" in body:
            behaviour.webhook_concurrency = max(1, int(body["webhook_concurrency"]))
    except (TypeError, ValueError):
        raise ControlError(400, "invalid behaviour value") from None
    return behaviour.as_dict()


async def post_reset(request: web.Request, world: World) -> JSON:
    """POST /reset: forget all chats, messages, files, updates and switches of this bot."""
    await world.reset()
    return {"ok": True}


async def get_file(request: web.Request, world: World) -> web.StreamResponse:
    """GET /files/{file_id}: raw bytes of any file in the world (e.g. what the bot sent)."""
    stored = world.files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "unknown file_id")
    return web.Response(body=stored.content, content_type="application/octet-stream")


def add_control_routes(app: web.Application) -> None:
    """Register the control API under /control/{token}/."""
    routes: list[tuple[str, str, ControlHandler]] = [
        ("POST", "messages", post_message),
        ("POST", "album", post_album),
        ("POST", "callback", post_callback),
        ("POST", "raw_update", post_raw_update),
        ("POST", "redeliver", post_redeliver),
        ("POST", "chats", post_chat),
        ("GET", "chats/{chat_id}/messages", get_messages),
        ("GET", "callback_answers", get_callback_answers),
        ("GET", "requests", get_requests),
        ("GET", "commands", get_commands),
        ("GET", "webhook", get_webhook),
        ("GET", "stats", get_stats),
        ("GET", "behaviour", get_behaviour),
        ("POST", "behaviour", post_behaviour),
        ("POST", "reset", post_reset),
        ("GET", "files/{file_id}", get_file),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, f"/control/{{token}}/{path}", _endpoint(handler))
