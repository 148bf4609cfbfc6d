"""A test citizen: sends messages and presses buttons through the sandbox, reads the bot's replies."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.client import SandboxClient, SandboxUser


class UpdateTracker:
    """Knows when the dispatcher has finished each update, so tests need not guess with sleeps."""

    def __init__(self) -> None:
        self._done: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    def finished(self, update_id: int) -> None:
        """Called by the wrapped dispatcher when an update's handling ended (in any way)."""
        self._event(update_id).set()

    async def wait(self, update_id: int, timeout: float) -> None:
        """Wait until the update was handled."""
        await asyncio.wait_for(self._event(update_id).wait(), timeout)

    def attach(self, dispatcher: Any) -> None:
        """Wrap the dispatcher's feed_update (used by polling and the webhook route alike)."""
        original = dispatcher.feed_update

        async def feed_update(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await original(bot, update, **kwargs)
            finally:
                self.finished(update.update_id)

        dispatcher.feed_update = feed_update


@dataclass
class BotMessage:
    """A message the bot sent, as the sandbox recorded it."""

    raw: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def text(self) -> str:
        return str(self.raw.get("text") or self.raw.get("caption") or "")

    @property
    def deleted(self) -> bool:
        return bool(self.raw.get("deleted"))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons as (label, callback_data)."""
        markup = self.raw.get("reply_markup") or {}
        return [
            (b.get("text", ""), b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
            if b.get("callback_data") is not None
        ]

    @property
    def keyboard(self) -> list[str]:
        """Reply-keyboard button labels."""
        markup = self.raw.get("reply_markup") or {}
        return [b.get("text", "") for row in markup.get("keyboard", []) for b in row]

    def button(self, label: str) -> str:
        """The callback data of the first button whose label contains `label`."""
        for text, data in self.buttons:
            if label.lower() in text.lower():
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons!r}")


@dataclass
class Citizen:
    """One Telegram user talking to the bot."""

    client: SandboxClient
    user_id: int = 100000001
    first_name: str = "Nguyễn Văn"
    last_name: str | None = "Bình"
    username: str | None = "binh_test_user"
    language_code: str = "vi"
    cursor: int = 0
    seen: list[BotMessage] = field(default_factory=list)
    tracker: UpdateTracker | None = None

    @property
    def user(self) -> SandboxUser:
        return SandboxUser(
            id=self.user_id,
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )

    async def replies(
        self, *, timeout: float = 8.0, quiet: float = 0.3, expect: bool = True, update_id: int | None = None
    ) -> list[BotMessage]:
        """New bot messages since the last call.

        With a tracker and the update id, waits until the dispatcher finished that update (exact and fast);
        otherwise waits for the first message, then until the bot stays quiet for `quiet` seconds.
        """
        if update_id is not None and self.tracker is not None:
            await self.tracker.wait(update_id, timeout)
            batch = await self.client.messages(self.user_id, after=self.cursor)
            found = [BotMessage(m) for m in batch if m["message_id"] > self.cursor and m.get("from_bot", True)]
            if found:
                self.cursor = max(m.message_id for m in found)
                self.seen.extend(found)
                return found
            if not expect:
                return []
        found: list[BotMessage] = []
        deadline = time.monotonic() + timeout
        wait_first = timeout if expect else quiet
        batch = await self.client.messages(self.user_id, after=self.cursor, wait=wait_first)
        while True:
            fresh = [BotMessage(m) for m in batch if m["message_id"] > self.cursor and m.get("from_bot", True)]
            if fresh:
                found.extend(fresh)
                self.cursor = max(m.message_id for m in fresh)
            elif found or not expect or time.monotonic() > deadline:
                break
            batch = await self.client.messages(self.user_id, after=self.cursor, wait=quiet)
            if not batch and found:
                break
        if expect and not found:
            raise AssertionError("the bot did not answer")
        self.seen.extend(found)
        return found

    async def send(self, text: str, **kwargs: Any) -> list[BotMessage]:
        """Send text and return the bot's replies."""
        sent = await self.client.send_text(self.user, text)
        return await self.replies(update_id=sent["update_id"], **kwargs)

    async def reply(self, text: str, **kwargs: Any) -> BotMessage:
        """Send text and return the bot's last reply."""
        return (await self.send(text, **kwargs))[-1]

    async def press(self, label: str, message: BotMessage | None = None, **kwargs: Any) -> list[BotMessage]:
        """Press the inline button containing `label` on `message` (default: the newest with such a button)."""
        target = message or self.latest_with_button(label)
        pressed = await self.client.press(self.user, target.message_id, target.button(label))
        return await self.replies(update_id=pressed["update_id"], **kwargs)

    async def press_data(self, message_id: int, data: str, *, force: bool = False, **kwargs: Any) -> list[BotMessage]:
        """Press a button by its callback data (force=True presses stale buttons)."""
        pressed = await self.client.press(self.user, message_id, data, force=force)
        return await self.replies(update_id=pressed["update_id"], **kwargs)

    def latest_with_button(self, label: str) -> BotMessage:
        """The newest seen message that has a button containing `label`."""
        for message in reversed(self.seen):
            if any(label.lower() in text.lower() for text, _ in message.buttons):
                return message
        raise AssertionError(f"no message with a button {label!r}")

    async def refresh(self, message: BotMessage) -> BotMessage:
        """The current version of a message (after edits or deletion)."""
        for raw in await self.client.messages(self.user_id, after=message.message_id - 1):
            if raw["message_id"] == message.message_id:
                return BotMessage(raw)
        raise AssertionError("message vanished")

    async def all_messages(self) -> list[BotMessage]:
        """Every bot message in this chat so far."""
        return [BotMessage(m) for m in await self.client.messages(self.user_id, after=0)]

    async def settle(self, seconds: float = 0.3) -> None:
        """Give the bot a moment (used only after actions that must produce no reply)."""
        await asyncio.sleep(seconds)
