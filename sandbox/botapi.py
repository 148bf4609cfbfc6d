"""Bot API routes: /bot{token}/{method} calls and /file/bot{token}/{path} downloads."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from typing import Any

from aiohttp import web

from sandbox.errors import ApiError, default_description
from sandbox.methods import find_method
from sandbox.params import Params, read_params
from sandbox.state import TOKEN_RE, FailRule, RequestRecord, SandboxState, World

log = logging.getLogger("sandbox.botapi")
STATE_KEY = web.AppKey("sandbox_state", SandboxState)
UNAUTHORIZED = ApiError(401, "Unauthorized")
METHOD_NOT_FOUND = ApiError(404, "Not Found: method not found")
# Telegram answers raw UTF-8; keeping Vietnamese readable also helps when debugging with curl.
dumps = functools.partial(json.dumps, ensure_ascii=False)


def _take_failure(world: World, method: str) -> FailRule | None:
    for rule in world.behaviour.fail_rules:
        if rule.count > 0 and (rule.method is None or rule.method.lower() == method.lower()):
            rule.count -= 1
            if rule.count == 0:
                world.behaviour.fail_rules.remove(rule)
            return rule
    return None


def _injected(rule: FailRule) -> ApiError:
    description = rule.description or default_description(rule.status)
    if rule.status == 429:
        return ApiError(429, rule.description or "Too Many Requests: retry after 1", retry_after=1)
    if rule.status == 400 and not description.startswith("Bad Request"):
        description = f"Bad Request: {description}"
    return ApiError(rule.status, description)


async def call_method(world: World, name: str, params: Params, via: str = "http") -> tuple[int, dict[str, Any]]:
    """Run one Bot API call with latency, injected failures, logging and stats; return (status, body)."""
    spec = find_method(name)
    method = spec.name if spec else name
    if world.behaviour.latency_ms > 0:
        await asyncio.sleep(world.behaviour.latency_ms / 1000)
    try:
        rule = _take_failure(world, method)
        if rule is not None:
            raise _injected(rule)
        if spec is None:
            raise METHOD_NOT_FOUND
        result = await spec.handler(world, params)
        status, body = 200, {"ok": True, "result": result}
    except ApiError as error:
        status, body = error.status, error.payload()
    except Exception as error:
        # A sandbox bug must still answer in Bot API shape so the client raises a clear server error.
        log.error("sandbox failure in %s: %s", method, type(error).__name__)
        status, body = 500, ApiError(500, f"Internal Server Error: sandbox {type(error).__name__}").payload()
    world.request_log.append(RequestRecord(method, params.loggable(), status, time.time(), via))
    world.stats.calls[method] += 1
    if status == 429:
        world.stats.too_many_requests += 1
    elif status == 403:
        world.stats.forbidden += 1
    # Privacy: only the method name and status are logged, never parameters.
    log.debug("bot api %s -> %d", method, status)
    return status, body


async def handle_method(request: web.Request) -> web.Response:
    """Entry point for POST/GET /bot{token}/{method}."""
    token = request.match_info["token"]
    if not TOKEN_RE.match(token):
        return web.json_response(UNAUTHORIZED.payload(), status=401)
    world = request.app[STATE_KEY].world(token)
    try:
        params = await read_params(request)
    except ApiError as error:
        return web.json_response(error.payload(), status=error.status, dumps=dumps)
    status, body = await call_method(world, request.match_info["method"], params)
    return web.json_response(body, status=status, dumps=dumps)


async def handle_file(request: web.Request) -> web.Response:
    """Entry point for GET /file/bot{token}/{path}: the stored bytes."""
    token = request.match_info["token"]
    if not TOKEN_RE.match(token):
        return web.json_response(UNAUTHORIZED.payload(), status=401)
    stored = request.app[STATE_KEY].world(token).files_by_path.get(request.match_info["path"])
    if stored is None:
        return web.json_response(ApiError(404, "Not Found").payload(), status=404)
    content_type = (stored.mime_type or "").split(";")[0].strip() or (
        "image/jpeg" if stored.kind == "photo" else "application/octet-stream"
    )
    return web.Response(body=stored.content, content_type=content_type)


def add_botapi_routes(app: web.Application) -> None:
    """Register the Bot API routes on an application whose STATE_KEY is set."""
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
