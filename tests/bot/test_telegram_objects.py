"""aiogram objects bound to their bot by the cheaper post-init keep aiogram's behaviour."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import SendMessage
from aiogram.methods.base import Response
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from pydantic import PrivateAttr

from bot.telegram_objects import bind_bot_cheaply

PRESS = {
    "update_id": 9,
    "callback_query": {
        "id": "c1",
        "chat_instance": "i",
        "data": "rp:danger:yes",
        "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "message": {
            "message_id": 3,
            "date": 1760000000,
            "chat": {"id": 5, "type": "private", "first_name": "A"},
            "text": "?",
            "reply_markup": {"inline_keyboard": [[{"text": "Có", "callback_data": "rp:danger:yes"}]]},
        },
    },
}


def test_every_parsed_object_knows_its_bot_and_copies_keep_it() -> None:
    bind_bot_cheaply()
    bot = Bot("123456:" + "A" * 35)
    update = Update.model_validate(PRESS, context={"bot": bot})
    press = update.callback_query
    assert isinstance(press, CallbackQuery)
    assert isinstance(press.message, Message)
    assert press.bot is bot
    assert press.message.bot is bot
    assert press.message.chat.bot is bot
    assert press.message.reply_markup is not None
    assert press.message.reply_markup.inline_keyboard[0][0].bot is bot
    assert press.model_copy(update={"data": "x"}).bot is bot
    unbound = Update.model_validate(PRESS)
    assert unbound.bot is None
    answer = Response[Message].model_validate(
        {"ok": True, "result": PRESS["callback_query"]["message"]}, context={"bot": bot}
    )
    assert answer.result is not None and answer.result.bot is bot
    assert SendMessage(chat_id=5, text="x").as_(bot).bot is bot


class _WithOwnPrivate(TelegramObject):
    """A type with a private attribute of its own must keep pydantic's post-init."""

    note: str
    _seen: int = PrivateAttr(default=7)


def test_only_plain_classes_are_changed_and_a_second_call_changes_none() -> None:
    bind_bot_cheaply()
    assert bind_bot_cheaply() == 0
    own = _WithOwnPrivate.model_validate({"note": "n"}, context={"bot": "b"})
    assert own._seen == 7
    assert own.bot == "b"
