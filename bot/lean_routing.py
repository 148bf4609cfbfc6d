"""aiogram's router walk without building an empty middleware chain at every router an update passes."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.types import TelegramObject

_original_propagate = Router.propagate_event


async def _propagate_event(self: Router, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
    """Router.propagate_event; with no outer middleware on the observer, straight to the handlers."""
    observer = self.observers.get(update_type)
    if observer is not None and len(observer.outer_middleware):
        return await _original_propagate(self, update_type, event, **kwargs)
    kwargs["event_router"] = self
    return await self._propagate_event(observer=observer, update_type=update_type, event=event, **kwargs)


async def _trigger(self: TelegramEventObserver, event: TelegramObject, **kwargs: Any) -> Any:
    """TelegramEventObserver.trigger; with no inner middleware up the chain, the matching handler is called as is."""
    for handler in self.handlers:
        kwargs["handler"] = handler
        result, data = await handler.check(event, **kwargs)
        if result:
            kwargs.update(data)
            middlewares = self._resolve_middlewares()
            try:
                if middlewares:
                    return await self.outer_middleware.wrap_middlewares(middlewares, handler.call)(event, kwargs)
                return await handler.call(event, **kwargs)
            except SkipHandler:
                continue
    return UNHANDLED


def walk_routers_leanly() -> None:
    """Install both shortcuts (idempotent).

    An update for the tip form passes a dozen routers before the one that handles it; at each, aiogram wraps
    the next step in a middleware chain (a closure, `functools.wraps`, a partial and two copies of the
    keyword arguments) even when the router has no middleware. Routers with middleware keep aiogram's path.
    """
    Router.propagate_event = _propagate_event  # type: ignore[method-assign]
    TelegramEventObserver.trigger = _trigger  # type: ignore[method-assign]
