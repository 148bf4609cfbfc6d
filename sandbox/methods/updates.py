"""Receiving updates: getUpdates long polling and webhook registration."""

from __future__ import annotations

import asyncio
import re

from sandbox.errors import ApiError, bad_request
from sandbox.methods.registry import api_method
from sandbox.params import Params
from sandbox.state import JSON, WebhookConfig, World

MAX_POLL_TIMEOUT = 50
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram leaves these out unless they are asked for explicitly.
_OPT_IN_TYPES = {"chat_member", "message_reaction", "message_reaction_count"}
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
TERMINATED = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def update_type(update: JSON) -> str:
    """The kind of an update (message, callback_query, ...)."""
    return next((key for key in update if key != "update_id"), "unknown")


def is_allowed(update: JSON, allowed: list[str] | None) -> bool:
    """Whether allowed_updates lets this update through."""
    kind = update_type(update)
    return kind in allowed if allowed else kind not in _OPT_IN_TYPES


def _take(world: World, limit: int) -> list[JSON]:
    batch = []
    for entry in list(world.updates):
        if not is_allowed(entry.update, world.allowed_updates):
            world.updates.remove(entry)
            continue
        batch.append(entry)
        if len(batch) >= limit:
            break
    for entry in batch:
        entry.delivered = True
    return [entry.update for entry in batch]


@api_method("getUpdates")
async def get_updates(world: World, params: Params) -> list[JSON]:
    """Long-poll for updates, confirming those below offset."""
    if world.webhook is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    offset = params.get_int("offset") or 0
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = min(max(params.get_int("timeout") or 0, 0), MAX_POLL_TIMEOUT)
    allowed = params.get_json("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = [str(a) for a in allowed] or None
    world.poll_generation += 1
    generation = world.poll_generation
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        world.confirm_updates(offset)
        batch = _take(world, limit)
        remaining = deadline - loop.time()
        if batch or world.closed or remaining <= 0:
            return batch
        await world.updates_signal.wait(remaining)
        if world.poll_generation != generation:
            raise ApiError(409, TERMINATED)
        if world.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)


@api_method("setWebhook")
async def set_webhook(world: World, params: Params) -> bool:
    """Register a webhook URL (http is allowed in the sandbox); an empty url removes it."""
    url = params.get_str("url") or ""
    if not url:
        world.webhook = None
        world.kick_webhook()
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get_str("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.get_json("allowed_updates")
    if params.get_bool("drop_pending_updates"):
        world.updates.clear()
    world.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        allowed_updates=[str(a) for a in allowed] if isinstance(allowed, list) and allowed else None,
        max_connections=params.get_int("max_connections"),
    )
    # Wake a pending getUpdates so it answers 409 like Telegram.
    world.updates_signal.notify()
    world.kick_webhook()
    return True


@api_method("deleteWebhook")
async def delete_webhook(world: World, params: Params) -> bool:
    """Remove the webhook; undelivered updates become available to getUpdates again."""
    if params.get_bool("drop_pending_updates"):
        world.updates.clear()
    world.webhook = None
    world.kick_webhook()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(world: World, params: Params) -> JSON:
    """Current webhook status."""
    hook = world.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections or world.behaviour.webhook_concurrency
        info["ip_address"] = "127.0.0.1"
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info
