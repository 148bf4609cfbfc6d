"""The lean router walk picks the same handler, with the same data, as aiogram's own walk."""

from __future__ import annotations

import datetime
import threading
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.types import Chat, Message, Update, User

from bot.lean_routing import AIOGRAM_WALK, walk_routers_leanly


def message_update(update_id: int, text: str) -> Update:
    user = User(id=7, is_bot=False, first_name="A")
    chat = Chat(id=7, type="private")
    when = datetime.datetime(2026, 11, 22, tzinfo=datetime.UTC)
    return Update(update_id=update_id, message=Message(message_id=1, date=when, chat=chat, from_user=user, text=text))


def build() -> tuple[Dispatcher, list[str]]:
    """Routers with and without middleware, a skipping handler and a filter that adds data."""
    seen: list[str] = []
    dispatcher = Dispatcher()
    first, second, nested = Router(name="first"), Router(name="second"), Router(name="nested")

    @first.message(Command("help"))
    async def help_(message: Message, event_router: Router) -> str:
        return f"help from {event_router.name}"

    @second.message(F.text == "skip")
    async def skipper(message: Message) -> str:
        raise SkipHandler

    @second.message(F.text.in_({"skip", "two"}))
    async def second_handler(message: Message, event_router: Router) -> str:
        return f"second from {event_router.name}"

    async def tag(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append(f"outer {data['event_router'].name}")
        data["tagged"] = True
        return await handler(event, data)

    async def inner(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append("inner")
        return await handler(event, data)

    nested.message.outer_middleware(tag)
    nested.message.middleware(inner)

    def rest_of(message: Message) -> dict[str, str] | bool:
        """A plain function filter: aiogram runs these in a worker thread; the lean walk in place."""
        seen.append("in place" if threading.get_ident() == threading.main_thread().ident else "in a thread")
        return {"rest": message.text[1:]} if message.text else False

    @nested.message(F.text.startswith("n"), rest_of)
    async def nested_handler(message: Message, rest: str, tagged: bool) -> str:
        return f"nested {rest} {tagged}"

    def leaky(message: Message) -> dict[str, str]:
        return {"leak": "leaked"}

    @nested.message(F.text == "iso", leaky, F.text == "never")
    async def never(message: Message) -> str:
        return "never"

    @nested.message(F.text == "iso")
    async def isolated(message: Message, root: str, leak: str = "none") -> str:
        return f"isolated {root} {leak}"

    second.message.filter(lambda message: {"root": "from-second"})  # router-wide filter adding data
    second.include_router(nested)
    dispatcher.include_routers(first, second)
    return dispatcher, seen


async def outcomes() -> tuple[list[Any], list[str]]:
    dispatcher, seen = build()
    bot = Bot("42:TEST")
    texts = ["/help", "skip", "two", "nx", "other", "iso"]
    results = [await dispatcher.feed_update(bot, message_update(n, text)) for n, text in enumerate(texts, 1)]
    await bot.session.close()
    return results, seen


async def test_the_lean_walk_matches_aiograms_own_walk() -> None:
    saved = (Router.propagate_event, TelegramEventObserver.trigger, HandlerObject.check)
    try:
        # Other tests may have installed the lean walk already (it is process-wide): start from aiogram's own.
        Router.propagate_event, TelegramEventObserver.trigger, HandlerObject.check = AIOGRAM_WALK  # type: ignore[method-assign]
        results_before, seen_before = await outcomes()
        walk_routers_leanly()
        results, seen = await outcomes()
    finally:
        Router.propagate_event, TelegramEventObserver.trigger, HandlerObject.check = saved  # type: ignore[method-assign]
    assert results == results_before
    assert seen_before == ["outer nested", "in a thread", "inner", "outer nested", "outer nested", "inner"]
    assert results[:4] == ["help from first", "second from second", "second from second", "nested x True"]
    assert results[4] is UNHANDLED
    assert results[5] == "isolated from-second none"  # router data reaches sub-routers; a failed check's does not
    # The outer middleware runs wherever an update reaches its router; the inner one only around a match.
    assert seen == ["outer nested", "in place", "inner", "outer nested", "outer nested", "inner"]
