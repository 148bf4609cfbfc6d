"""Bind aiogram objects to their bot in one step instead of pydantic's private-attribute walk."""

from __future__ import annotations

import inspect
from typing import Any

from aiogram.client.context_controller import BotContextController

_ORIGINAL = BotContextController.__dict__["model_post_init"]


def _bind_bot(self: BotContextController, context: Any, /) -> None:
    """What pydantic's wrapper plus aiogram's `model_post_init` do: a private dict holding the bot."""
    bot = context.get("bot") if context else None
    private = getattr(self, "__pydantic_private__", None)
    if private is None:
        object.__setattr__(self, "__pydantic_private__", {"_bot": bot})
    else:
        private["_bot"] = bot


def _is_plain_wrapper(function: Any) -> bool:
    """True for pydantic's wrappers around aiogram's own `model_post_init` and nothing else."""
    return inspect.unwrap(function) is inspect.unwrap(_ORIGINAL)


def _subclasses(root: type) -> list[type]:
    found: list[type] = []
    pending = [root]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def bind_bot_cheaply() -> int:
    """Replace the post-init of every aiogram object class whose only private attribute is `_bot`.

    pydantic gives every subclass of a model with private attributes its own wrapper, which calls the parent's:
    a `Message` nests four, and each walks the private attributes again. aiogram builds dozens of objects per
    update (every button of a keyboard is one), so this was ~7 % of the bot's CPU. Classes with other private
    attributes or their own post-init keep pydantic's path. Returns how many classes were changed.
    """
    changed = 0
    for cls in _subclasses(BotContextController):
        own = cls.__dict__.get("model_post_init")
        if own is None or own is _bind_bot:
            continue
        if set(getattr(cls, "__private_attributes__", {})) != {"_bot"} or not _is_plain_wrapper(own):
            continue
        setattr(cls, "model_post_init", _bind_bot)  # noqa: B010 - replacing a method on many classes
        changed += 1
    return changed
