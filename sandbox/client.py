"""Async Python client of the sandbox control API (tests, benchmarks, terminal chat)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

JSON = dict[str, Any]
MessageView = dict[str, Any]


class SandboxError(Exception):
    """The control API rejected a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SandboxUser:
    """A simulated Telegram user (their private chat id equals their id)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "vi"

    def as_dict(self) -> JSON:
        """The control-API user object."""
        out: JSON = {"id": self.id, "first_name": self.first_name}
        for key in ("username", "last_name", "language_code"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


UserLike = SandboxUser | JSON


def _user(user: UserLike) -> JSON:
    return user.as_dict() if isinstance(user, SandboxUser) else dict(user)


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def inline_buttons(message: MessageView) -> list[JSON]:
    """All inline keyboard buttons of a message view, row by row."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard") or [] for button in row]


def button_data(message: MessageView, text_contains: str) -> str:
    """callback_data of the first inline button whose visible text contains `text_contains` (case-insensitive)."""
    needle = text_contains.casefold()
    for button in inline_buttons(message):
        if needle in str(button.get("text", "")).casefold() and "callback_data" in button:
            return str(button["callback_data"])
    labels = [b.get("text") for b in inline_buttons(message)]
    raise LookupError(f"no inline button containing {text_contains!r}; buttons: {labels}")


class SandboxClient:
    """Control-API client for one bot world (`token` may be "default")."""

    def __init__(self, base_url: str, token: str = "default", timeout: float = 30.0) -> None:  # noqa: S107
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.AsyncClient(base_url=f"{self.base_url}/control/{token}/", timeout=timeout)

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    async def _call(self, verb: str, path: str, body: JSON | None = None, params: JSON | None = None) -> Any:
        response = await self._http.request(verb, path, json=body, params=params)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise SandboxError(response.status_code, message)
        return response.json()

    # --- a user acts -----------------------------------------------------------------------

    async def send(self, user: UserLike, **content: Any) -> JSON:
        """Send any message body (see README); returns {"update_id", "message_id"}."""
        result: JSON = await self._call("POST", "messages", {"user": _user(user), **content})
        return result

    async def send_text(self, user: UserLike, text: str, reply_to_message_id: int | None = None) -> JSON:
        """The user sends a text (a leading /command gets a bot_command entity)."""
        extra = {"reply_to_message_id": reply_to_message_id} if reply_to_message_id else {}
        return await self.send(user, text=text, **extra)

    async def send_photo(self, user: UserLike, content: bytes | None = None, caption: str | None = None) -> JSON:
        """The user sends a photo (a small generated JPEG if content is None)."""
        photo: JSON = {"content_b64": _b64(content)} if content is not None else {}
        return await self.send(user, photo=photo, **({"caption": caption} if caption else {}))

    async def send_document(
        self,
        user: UserLike,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        file_size: int | None = None,
    ) -> JSON:
        """The user sends a file; file_size fakes a larger reported size (e.g. to test the 20 MB limit)."""
        document: JSON = {"file_name": file_name, "mime_type": mime_type, "content_b64": _b64(content)}
        if file_size is not None:
            document["file_size"] = file_size
        return await self.send(user, document=document, **({"caption": caption} if caption else {}))

    async def send_video(self, user: UserLike, content: bytes | None = None, duration: int = 3) -> JSON:
        """The user sends a video."""
        video: JSON = {"duration": duration, **({"content_b64": _b64(content)} if content is not None else {})}
        return await self.send(user, video=video)

    async def send_voice(self, user: UserLike, content: bytes | None = None, duration: int = 2) -> JSON:
        """The user sends a voice note."""
        voice: JSON = {"duration": duration, **({"content_b64": _b64(content)} if content is not None else {})}
        return await self.send(user, voice=voice)

    async def send_album(self, user: UserLike, items: list[JSON], caption: str | None = None) -> JSON:
        """The user sends an album; items like {"photo": {}} or {"document": {...}}."""
        body: JSON = {"user": _user(user), "items": items, **({"caption": caption} if caption else {})}
        result: JSON = await self._call("POST", "album", body)
        return result

    async def send_contact(
        self, user: UserLike, phone: str, first_name: str, last_name: str | None = None, own: bool = True
    ) -> JSON:
        """The user shares a contact (own=True sets user_id, as a request_contact button does)."""
        contact: JSON = {"phone_number": phone, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if own:
            contact["user_id"] = _user(user)["id"]
        return await self.send(user, contact=contact)

    async def send_location(self, user: UserLike, lat: float, lon: float) -> JSON:
        """The user shares a location."""
        return await self.send(user, location={"latitude": lat, "longitude": lon})

    async def send_sticker(self, user: UserLike, emoji: str = "😀") -> JSON:
        """The user sends a sticker."""
        return await self.send(user, sticker={"emoji": emoji})

    async def press(self, user: UserLike, message_id: int, data: str, force: bool = False) -> JSON:
        """The user presses an inline button; returns {"update_id", "callback_query_id"}."""
        body = {"user": _user(user), "message_id": message_id, "data": data, "force": force}
        result: JSON = await self._call("POST", "callback", body)
        return result

    async def raw_update(self, update: JSON) -> int:
        """Enqueue an arbitrary update; returns its update_id."""
        result = await self._call("POST", "raw_update", update)
        return int(result["update_id"])

    async def redeliver(self, update_id: int) -> None:
        """Deliver an already-sent update again with the same update_id."""
        await self._call("POST", "redeliver", {"update_id": update_id})

    async def add_chat(self, chat: JSON) -> JSON:
        """Make a group chat known to the bot."""
        result: JSON = await self._call("POST", "chats", chat)
        return result

    # --- inspect ----------------------------------------------------------------------------

    async def messages_page(
        self,
        chat_id: int,
        after: int = 0,
        wait: float = 0.0,
        include_user: bool = False,
        since_version: int | None = None,
    ) -> JSON:
        """Raw /messages answer: {"messages": [...], "version": N}."""
        params: JSON = {"after_message_id": after, "wait": wait, "include_user": int(include_user)}
        if since_version is not None:
            params["since_version"] = since_version
        result: JSON = await self._call("GET", f"chats/{chat_id}/messages", params=params)
        return result

    async def messages(
        self, chat_id: int, after: int = 0, wait: float = 0.0, include_user: bool = False
    ) -> list[MessageView]:
        """Messages in a chat (the bot's only unless include_user), long-polling up to `wait` seconds."""
        page = await self.messages_page(chat_id, after, wait, include_user)
        return list(page["messages"])

    async def wait_for_message(
        self,
        chat_id: int,
        after_message_id: int = 0,
        predicate: Callable[[MessageView], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole search, part of the public API
    ) -> MessageView:
        """First bot message with id > after_message_id matching predicate (edits re-checked); else TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        version: int | None = None
        seen: list[str] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching bot message in chat within {timeout}s; saw: {seen[-5:]}")
            page = await self.messages_page(chat_id, after_message_id, remaining, since_version=version)
            version = int(page["version"])
            for message in page["messages"]:
                if predicate is None and message["deleted"]:
                    continue
                if predicate is None or predicate(message):
                    return dict(message)
                seen.append(str(message.get("text") or message.get("caption") or message.get("media")))

    async def requests(self, method: str | None = None) -> list[JSON]:
        """The Bot API request log (optionally one method)."""
        result = await self._call("GET", "requests", params={"method": method} if method else None)
        return list(result["requests"])

    async def callback_answers(self) -> list[JSON]:
        """The bot's answerCallbackQuery calls."""
        return list((await self._call("GET", "callback_answers"))["answers"])

    async def commands(self) -> list[JSON]:
        """Stored command lists with scope and language."""
        return list((await self._call("GET", "commands"))["commands"])

    async def webhook(self) -> JSON:
        """Webhook registration and delivery status."""
        result: JSON = await self._call("GET", "webhook")
        return result

    async def stats(self) -> JSON:
        """Counters: calls per method, 429s, 403s, sends per chat, webhook deliveries."""
        result: JSON = await self._call("GET", "stats")
        return result

    async def file_bytes(self, file_id: str) -> bytes:
        """Raw content of any stored file."""
        response = await self._http.get(f"files/{file_id}")
        if response.status_code >= 400:
            raise SandboxError(response.status_code, response.text)
        return response.content

    # --- control ----------------------------------------------------------------------------

    async def behaviour(self) -> JSON:
        """Current behaviour switches."""
        result: JSON = await self._call("GET", "behaviour")
        return result

    async def set_behaviour(self, **switches: Any) -> JSON:
        """Change behaviour switches (see sandbox/README.md); returns the new state."""
        result: JSON = await self._call("POST", "behaviour", switches)
        return result

    async def reset(self) -> None:
        """Forget everything about this bot's world."""
        await self._call("POST", "reset", {})
