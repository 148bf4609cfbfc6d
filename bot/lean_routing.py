"""aiogram's router walk without an empty middleware chain at every router, and filters checked in place."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject
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


async def _check(self: HandlerObject, *args: Any, **kwargs: Any) -> tuple[bool, dict[str, Any]]:
    """HandlerObject.check; synchronous filters are called in place, not in a worker thread.

    aiogram hands each non-async filter, magic filters (`F.data.startswith(...)`) included, to
    `asyncio.to_thread`, and wraps every filter in a partial and a coroutine. Routing one update checks dozens
    of them (measured: the thread hand-overs alone were 8 % of the bot's CPU at 130 updates/s). Our filters
    are attribute checks and short string tests that never block.
    """
    if not self.filters:
        return True, kwargs
    for event_filter in self.filters:
        params = event_filter.params
        given = kwargs if event_filter.varkw else {key: kwargs[key] for key in params if key in kwargs}
        check = event_filter.callback(*args, **given)
        if event_filter.awaitable:
            check = await check
        if not check:
            return False, kwargs
        if isinstance(check, dict):
            kwargs.update(check)
    return True, kwargs


def walk_routers_leanly() -> None:
    """Install the three shortcuts (idempotent).

    An update for the tip form passes a dozen routers before the one that handles it; at each, aiogram wraps
    the next step in a middleware chain (a closure, `functools.wraps`, a partial and two copies of the
    keyword arguments) even when the router has no middleware. Routers with middleware keep aiogram's path.
    """
    Router.propagate_event = _propagate_event  # type: ignore[method-assign]
    TelegramEventObserver.trigger = _trigger  # type: ignore[method-assign]
    HandlerObject.check = _check  # type: ignore[method-assign]
