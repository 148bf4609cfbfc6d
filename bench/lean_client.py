"""The few control-API calls the intake benchmark makes, over the bot's lean HTTP client: a cheap load generator.

`sandbox.client.SandboxClient` (httpx) is the tests' client; at hundreds of requests per second its own CPU
cost took a third of a core on a 2-core machine that also runs the bot and the emulator (aiohttp: a fifth).
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

from bot.lean_http import LeanHTTP, Origin
from sandbox.client import SandboxError, SandboxUser

JSON = dict[str, Any]


class LeanControl:
    """Act as citizens and read their chats through the sandbox's control API."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self._prefix = f"/control/{token}/"
        self._timeout = timeout
        self._http = LeanHTTP(Origin.parse(base_url), limit=0)

    async def aclose(self) -> None:
        """Close the connections."""
        self._http.close()

    async def _call(self, verb: str, path: str, body: JSON | None = None, params: JSON | None = None) -> Any:
        target = self._prefix + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        content = json.dumps(body).encode() if body is not None else b""
        async with asyncio.timeout(self._timeout):
            status, raw = await self._http.request(verb, target, content)
        payload = json.loads(raw)
        if status >= 400:
            raise SandboxError(status, str(payload.get("error", payload)))
        return payload

    async def send_text(self, user: SandboxUser, text: str) -> JSON:
        """The citizen sends a text."""
        result: JSON = await self._call("POST", "messages", {"user": user.as_dict(), "text": text})
        return result

    async def send_photo(self, user: SandboxUser) -> JSON:
        """The citizen sends a small generated photo."""
        result: JSON = await self._call("POST", "messages", {"user": user.as_dict(), "photo": {}})
        return result

    async def press(self, user: SandboxUser, message_id: int, data: str) -> JSON:
        """The citizen presses an inline button."""
        body = {"user": user.as_dict(), "message_id": message_id, "data": data, "force": False}
        result: JSON = await self._call("POST", "callback", body)
        return result

    async def messages_page(self, chat_id: int, wait: float, since_version: int) -> JSON:
        """Messages changed since `since_version` (long poll up to `wait` seconds)."""
        params = {"after_message_id": 0, "wait": f"{wait:.3f}", "include_user": 0, "since_version": since_version}
        result: JSON = await self._call("GET", f"chats/{chat_id}/messages", params=params)
        return result
