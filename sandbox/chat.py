"""Terminal chat: a person talks to the bot as a citizen (`python -m sandbox.chat --url ...`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import mimetypes
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.client import MessageView, SandboxClient, SandboxError, SandboxUser

HELP = (
    "Type text to send it; a number presses that button; /photo PATH, /doc PATH, /voice PATH, "
    "/contact PHONE NAME, /location LAT LON, /sticker, /help, /quit. Other /commands go to the bot."
)
MAX_SETTLE = 10.0


@dataclass(frozen=True)
class Action:
    """One parsed input line: kind plus its arguments."""

    kind: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A numbered button the user can press by typing its number."""

    label: str
    message_id: int | None = None
    callback_data: str | None = None
    url: str | None = None
    request_contact: bool = False
    request_location: bool = False


def parse_line(line: str) -> Action:
    """Turn an input line into an Action (text, press, photo, doc, voice, contact, location, ...)."""
    text = line.strip()
    if not text:
        return Action("empty")
    if text.isdigit() and len(text) <= 3:
        return Action("press", (text,))
    if not text.startswith("/"):
        return Action("text", (text,))
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    name = head[1:].lower()
    if name in ("quit", "exit"):
        return Action("quit")
    if name == "help":
        return Action("help")
    if name == "sticker":
        return Action("sticker")
    if name in ("photo", "doc", "voice") and rest:
        return Action(name, (rest,))
    if name == "contact" and rest:
        phone, _, person = rest.partition(" ")
        return Action("contact", (phone, person.strip()))
    if name == "location":
        parts = rest.replace(",", " ").split()
        if len(parts) == 2:
            return Action("location", (parts[0], parts[1]))
        return Action("error", ("usage: /location LAT LON",))
    if name in ("photo", "doc", "voice", "contact"):
        return Action("error", (f"usage: /{name} {'PHONE NAME' if name == 'contact' else 'PATH'}",))
    return Action("text", (text,))


def inline_choices(view: MessageView) -> list[Choice]:
    """Numbered choices for a message's inline keyboard."""
    markup = view.get("reply_markup") or {}
    return [
        Choice(str(b.get("text")), view["message_id"], b.get("callback_data"), b.get("url"))
        for row in markup.get("inline_keyboard") or []
        for b in row
    ]


def keyboard_choices(markup: dict[str, Any]) -> list[Choice]:
    """Numbered choices for a reply keyboard."""
    return [
        Choice(
            str(b.get("text")),
            request_contact=bool(b.get("request_contact")),
            request_location=bool(b.get("request_location")),
        )
        for row in markup.get("keyboard") or []
        for b in row
    ]


def _label(choice: Choice) -> str:
    if choice.request_contact:
        return f"{choice.label} (📱 share contact)"
    if choice.request_location:
        return f"{choice.label} (📍 share location)"
    if choice.url:
        return f"{choice.label} (🔗 {choice.url})"
    return choice.label


def render_message(view: MessageView, edited: bool, first_number: int | None) -> list[str]:
    """Lines showing one bot message; inline buttons numbered from first_number (None: bullets)."""
    if view.get("deleted"):
        return [f"🗑  (bot deleted message #{view['message_id']})"]
    prefix = "✎  (edited) " if edited else "🤖 "
    media = view.get("media")
    body = view.get("text") or view.get("caption") or ""
    lines = []
    if media:
        lines.append(f"{prefix}[{media['type']}]" + (f" {body}" if body else ""))
    elif view.get("location"):
        loc = view["location"]
        lines.append(f"{prefix}[location {loc['latitude']}, {loc['longitude']}]")
    elif view.get("contact"):
        lines.append(f"{prefix}[contact {view['contact'].get('phone_number')}]")
    else:
        text_lines = body.splitlines() or [""]
        lines.append(prefix + text_lines[0])
        lines.extend("   " + extra for extra in text_lines[1:])
    buttons = inline_choices(view)
    if buttons:
        marks = [f"[{first_number + i}]" if first_number is not None else "•" for i in range(len(buttons))]
        lines.append("   " + "   ".join(f"{m} {_label(b)}" for m, b in zip(marks, buttons, strict=True)))
    return lines


def render_keyboard(choices: list[Choice], first_number: int) -> str:
    """The reply keyboard line, numbered from first_number."""
    return "   ⌨  " + "   ".join(f"[{first_number + i}] {_label(c)}" for i, c in enumerate(choices))


def _load(path: str) -> bytes:
    return Path(path).expanduser().read_bytes()


async def _read_file(path: str) -> bytes:
    return await asyncio.to_thread(_load, path)


@dataclass
class ChatSession:
    """Holds what the citizen sees and turns their input into control-API calls."""

    client: SandboxClient
    user: SandboxUser
    write: Callable[[str], None]
    ask: Callable[[str], Awaitable[str | None]]
    settle: float = 1.5
    quiet: float = 0.5
    version: int = 0
    seen: dict[int, MessageView] = field(default_factory=dict)
    # The last button press whose answer (a toast or alert in Telegram's apps) has not been shown yet.
    pressed_query: str | None = None
    inline: list[Choice] = field(default_factory=list)
    keyboard: list[Choice] = field(default_factory=list)
    one_time: bool = False

    @property
    def choices(self) -> list[Choice]:
        """Inline buttons of the newest message with a keyboard, then reply-keyboard buttons."""
        return self.inline + self.keyboard

    async def start(self) -> None:
        """Skip old history: only messages from now on are shown."""
        page = await self.client.messages_page(self.user.id, wait=0)
        self.version = int(page["version"])

    def _absorb(self, views: list[MessageView]) -> None:
        current = {**self.seen, **{v["message_id"]: v for v in views}}
        latest_inline = max(
            (v for v in current.values() if not v.get("deleted") and inline_choices(v)),
            key=lambda v: int(v["message_id"]),
            default=None,
        )
        self.inline = inline_choices(latest_inline) if latest_inline else []
        for view in views:
            edited = view["message_id"] in self.seen and not view.get("deleted")
            first = 1 if latest_inline is not None and view["message_id"] == latest_inline["message_id"] else None
            for line in render_message(view, edited, first):
                self.write(line)
            self.seen[view["message_id"]] = view
            markup = view.get("reply_markup") or {}
            if markup.get("keyboard") and not view.get("deleted"):
                self.keyboard = keyboard_choices(markup)
                self.one_time = bool(markup.get("one_time_keyboard"))
                self.write(render_keyboard(self.keyboard, len(self.inline) + 1))
            elif markup.get("remove_keyboard"):
                self.keyboard = []

    async def poll(self) -> None:
        """Show bot messages until replies stop (or none arrive within `settle` seconds), then a button's answer."""
        await self._poll_messages()
        if self.pressed_query is not None:
            await self._show_press_answer(self.pressed_query)

    async def _show_press_answer(self, query_id: str) -> None:
        """Telegram's apps show the text of a button's answer as a toast (or an alert): so does the terminal."""
        answer = next((a for a in await self.client.callback_answers() if a["callback_query_id"] == query_id), None)
        if answer is None:
            return  # not answered yet: looked for again after the next input
        self.pressed_query = None
        if answer.get("text"):
            self.write(f"{'❗' if answer.get('show_alert') else '🔔'} {answer['text']}")

    async def _poll_messages(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + self.settle
        while True:
            remaining = min(deadline, start + MAX_SETTLE) - loop.time()
            if remaining <= 0:
                return
            page = await self.client.messages_page(self.user.id, wait=remaining, since_version=self.version)
            self.version = int(page["version"])
            if not page["messages"]:
                return
            self._absorb(page["messages"])
            # Replies keep coming in bursts; stop once the bot has been quiet for a moment.
            deadline = loop.time() + self.quiet

    async def handle(self, line: str) -> bool:
        """Act on one input line; False means quit."""
        action = parse_line(line)
        try:
            return await self._dispatch(action)
        except (SandboxError, OSError, ValueError) as error:
            self.write(f"⚠  {error}")
            return True

    async def _dispatch(self, action: Action) -> bool:
        user, client = self.user, self.client
        if action.kind == "quit":
            return False
        if action.kind == "help":
            self.write(HELP)
        elif action.kind == "error":
            self.write(f"⚠  {action.args[0]}")
        elif action.kind == "text":
            await client.send_text(user, action.args[0])
        elif action.kind == "press":
            await self._press(int(action.args[0]))
        elif action.kind == "photo":
            await client.send_photo(user, await _read_file(action.args[0]))
        elif action.kind == "doc":
            name = Path(action.args[0]).name
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            await client.send_document(user, name, await _read_file(action.args[0]), mime)
        elif action.kind == "voice":
            await client.send_voice(user, await _read_file(action.args[0]))
        elif action.kind == "contact":
            await client.send_contact(user, action.args[0], action.args[1] or user.first_name)
        elif action.kind == "location":
            await client.send_location(user, float(action.args[0]), float(action.args[1]))
        elif action.kind == "sticker":
            await client.send_sticker(user)
        return True

    async def _press(self, number: int) -> None:
        choices = self.choices
        if not 1 <= number <= len(choices):
            # Not a button number: the citizen simply typed a number.
            await self.client.send_text(self.user, str(number))
            return
        choice = choices[number - 1]
        if choice.message_id is not None:
            if choice.callback_data is None:
                self.write(f"(this button opens {choice.url or 'something outside the chat'})")
                return
            pressed = await self.client.press(self.user, choice.message_id, choice.callback_data)
            self.pressed_query = str(pressed["callback_query_id"])
            return
        if choice.request_contact:
            phone = (await self.ask("Phone number to share: ") or "").strip()
            await self.client.send_contact(self.user, phone, self.user.first_name)
        elif choice.request_location:
            coords = (await self.ask("Latitude longitude: ") or "").replace(",", " ").split()
            if len(coords) != 2:
                self.write("⚠  need two numbers")
                return
            await self.client.send_location(self.user, float(coords[0]), float(coords[1]))
        else:
            await self.client.send_text(self.user, choice.label)
        if self.one_time:
            self.keyboard = []


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.chat", description="Chat with the bot as a citizen")
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="sandbox base URL")
    parser.add_argument("--token", default="default", help="bot token (default: the first bot seen)")
    parser.add_argument("--user-id", type=int, default=100000001)
    parser.add_argument("--name", default="Công dân")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument("--wait", type=float, default=1.5, help="seconds to wait for replies after each input")
    parser.add_argument("--quiet", type=float, default=0.5, help="stop waiting once the bot is quiet this long")
    return parser.parse_args(argv)


async def _read_line(prompt: str) -> str | None:
    if sys.stdin.isatty():
        sys.stdout.write(prompt)
        sys.stdout.flush()
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None


def _print(line: str) -> None:
    print(line, flush=True)


async def run(args: argparse.Namespace) -> None:
    """Chat until /quit or end of input."""
    user = SandboxUser(id=args.user_id, first_name=args.name, language_code=args.lang)
    async with SandboxClient(args.url, args.token) as client:
        session = ChatSession(client, user, _print, _read_line, settle=args.wait, quiet=args.quiet)
        _print(HELP)
        with contextlib.suppress(SandboxError):
            await session.start()
        while True:
            line = await _read_line("> ")
            if line is None or not await session.handle(line):
                break
            await session.poll()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    with contextlib.suppress(Exception):
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
