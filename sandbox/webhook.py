"""Push queued updates to the registered webhook: sequential per chat, concurrent across chats."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sandbox.methods.updates import is_allowed
from sandbox.params import Params, Upload
from sandbox.state import JSON, QueuedUpdate, World, now_ts

log = logging.getLogger("sandbox.webhook")
Execute = Callable[[World, str, Params, str], Awaitable[tuple[int, dict[str, Any]]]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
FIRST_BACKOFF = 0.05
MAX_BACKOFF = 1.0
REQUEST_TIMEOUT = 10.0
# Idle connections are dropped before the usual server keep-alive (uvicorn's is 5 s): reusing one the server is
# closing at that very moment fails the delivery (seen in the intake benchmark as a rare ClientOSError).
IDLE_CONNECTION_SECONDS = 4.0


def chat_key(update: JSON) -> int | None:
    """The chat an update belongs to, used to keep per-chat order (None: no chat)."""
    for value in update.values():
        if not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return int(holder["chat"]["id"])
        sender = value.get("from")
        if isinstance(sender, dict):
            return int(sender["id"])
    return None


class WebhookDeliverer:
    """Background delivery for one world; created lazily when a webhook is set."""

    def __init__(self, world: World, execute: Execute) -> None:
        self._world = world
        self._execute = execute
        self._queues: dict[int | None, deque[QueuedUpdate]] = {}
        self._workers: dict[int | None, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._limit = 0
        self._semaphore = asyncio.Semaphore(1)

    def kick(self) -> None:
        """Assign new updates to per-chat queues, or stand down when the webhook was removed."""
        hook = self._world.webhook
        if hook is None:
            self._stand_down()
            return
        for entry in list(self._world.updates):
            if entry.assigned:
                continue
            if not is_allowed(entry.update, hook.allowed_updates):
                self._world.remove_update(entry)
                continue
            entry.assigned = True
            key = chat_key(entry.update)
            self._queues.setdefault(key, deque()).append(entry)
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._work(key))

    def _stand_down(self) -> None:
        for task in self._workers.values():
            task.cancel()
        self._workers.clear()
        self._queues.clear()
        for entry in self._world.updates:
            entry.assigned = False

    async def stop(self) -> None:
        """Cancel workers and close the HTTP session."""
        tasks = list(self._workers.values())
        self._stand_down()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _acquire_slot(self) -> asyncio.Semaphore:
        hook = self._world.webhook
        limit = (hook.max_connections if hook else None) or self._world.behaviour.webhook_concurrency
        if limit != self._limit:
            # A changed limit applies to deliveries that start from now on.
            self._limit, self._semaphore = limit, asyncio.Semaphore(max(1, limit))
        return self._semaphore

    async def _work(self, key: int | None) -> None:
        queue = self._queues[key]
        backoff = FIRST_BACKOFF
        try:
            while queue and self._world.webhook is not None:
                entry = queue[0]
                async with self._acquire_slot():
                    delivered = await self._deliver(entry)
                if delivered:
                    queue.popleft()
                    self._world.remove_update(entry)
                    backoff = FIRST_BACKOFF
                else:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                if not queue:
                    self._queues.pop(key, None)

    async def _deliver(self, entry: QueuedUpdate) -> bool:
        hook = self._world.webhook
        if hook is None:
            return False
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_SECONDS),
            )
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with self._session.post(hook.url, json=entry.update, headers=headers) as response:
                status = response.status
                reason = response.reason or ""
                reply = await _read_reply(response) if 200 <= status < 300 else None
        except (aiohttp.ClientError, TimeoutError) as error:
            self._failed(entry, f"Connection failed: {type(error).__name__}")
            return False
        if not 200 <= status < 300:
            self._failed(entry, f"Wrong response from the webhook: {status} {reason}".strip())
            return False
        self._world.stats.webhook_delivered += 1
        entry.delivered = True
        if reply is not None and isinstance(reply.values.get("method"), str):
            method = str(reply.values.pop("method"))
            await self._execute(self._world, method, reply, "webhook_response")
        return True

    def _failed(self, entry: QueuedUpdate, message: str) -> None:
        hook = self._world.webhook
        if hook is not None:
            hook.last_error_date, hook.last_error_message = now_ts(), message
        self._world.stats.webhook_failures += 1
        self._world.delivery_failures.append({"update_id": entry.update_id, "error": message, "date": now_ts()})
        log.debug("webhook delivery failed: %s", message)


async def _read_reply(response: aiohttp.ClientResponse) -> Params | None:
    """Parse a webhook response body (JSON, urlencoded or multipart, as aiogram sends) into Params."""
    content_type = response.content_type
    try:
        if content_type.startswith("multipart/"):
            return await _read_multipart(response)
        body = await response.read()
        if not body.strip():
            return None
        if content_type == "application/x-www-form-urlencoded":
            return Params(dict(urllib.parse.parse_qsl(body.decode())))
        payload = json.loads(body)
    except (ValueError, aiohttp.ClientError):
        return None
    return Params(payload) if isinstance(payload, dict) else None


async def _read_multipart(response: aiohttp.ClientResponse) -> Params:
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    reader = aiohttp.MultipartReader.from_response(response)
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename:
            content = bytes(await part.read())
            uploads[part.name] = Upload(part.filename, content, part.headers.get("Content-Type"))
        else:
            values[part.name] = await part.text()
    for key, upload in uploads.items():
        values.setdefault(key, upload)
    return Params(values, uploads)


def deliverer_factory(execute: Execute) -> Callable[[World], WebhookDeliverer]:
    """A runner factory for SandboxState that builds deliverers calling `execute`."""

    def make(world: World) -> WebhookDeliverer:
        return WebhookDeliverer(world, execute)

    return make
