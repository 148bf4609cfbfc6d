"""aiogram's aiohttp session, made cheaper per call: JSON bodies and response models that stay built."""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any, ClassVar, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from yarl import URL

from bot.lean_http import HTTPConnectionError, LeanHTTP, Origin

if TYPE_CHECKING:
    from aiogram import Bot


class TelegramSession(AiohttpSession):
    """Sends calls without files as JSON over a lean keep-alive client, and keeps `Response[T]` models alive.

    aiogram builds a multipart form for every call; a JSON body is several times cheaper to build here and to
    parse on the other side, and `bot.lean_http` sends it for a quarter of aiohttp's CPU. Uploads and proxies
    stay on aiogram's aiohttp path. `Response[T]` is a pydantic generic whose cache holds it weakly: after a
    garbage collection the next call rebuilds its schema (about 7 ms of CPU, measured in the intake benchmark).
    """

    _response_types: ClassVar[dict[Any, Any]] = {}

    def __init__(self, *, limit: int = 100, **kwargs: Any) -> None:
        super().__init__(limit=limit, **kwargs)
        self._limit = limit
        self._lean: dict[Origin, LeanHTTP] = {}
        self._paths: dict[tuple[str, str], tuple[Origin, str]] = {}

    def _target(self, bot: Bot, method: TelegramMethod[TelegramType]) -> tuple[Origin, str]:
        """The origin and path (which holds the token: never logged) of a method, worked out once."""
        key = (bot.token, method.__api_method__)
        found = self._paths.get(key)
        if found is None:
            url = URL(self.api.api_url(token=bot.token, method=method.__api_method__))
            found = self._paths[key] = (Origin.parse(url), url.raw_path_qs)
        return found

    def _client(self, origin: Origin) -> LeanHTTP:
        client = self._lean.get(origin)
        if client is None:
            ssl_context = self._connector_init.get("ssl")
            client = self._lean[origin] = LeanHTTP(
                origin, limit=self._limit, ssl_context=ssl_context if isinstance(ssl_context, ssl.SSLContext) else None
            )
        return client

    async def close(self) -> None:
        """Close the lean connections, then aiogram's aiohttp session."""
        for client in self._lean.values():
            client.close()
        self._lean.clear()
        await super().close()

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> dict[str, Any] | None:
        """The call's parameters as one JSON object, or None when it uploads a file (multipart then)."""
        files: dict[str, Any] = {}
        body = self._plain(method.model_dump(warnings=False, exclude_none=True), bot, files)
        return None if files else body

    def _plain(self, value: Any, bot: Bot, files: dict[str, Any]) -> Any:
        """aiogram's `prepare_value` without JSON strings inside, with a fast path for JSON's own types.

        A keyboard is dozens of nested dicts of strings; aiogram's walk runs ten type checks on each value.
        Anything else (defaults such as parse_mode, files, dates, enums) still goes through aiogram's walk.
        """
        kind = type(value)
        if kind is str or kind is int or kind is bool or kind is float:
            return value
        if kind is dict:
            return {k: p for k, v in value.items() if v is not None and (p := self._plain(v, bot, files)) is not None}
        if kind is list:
            return [p for v in value if v is not None and (p := self._plain(v, bot, files)) is not None]
        return self.prepare_value(value, bot=bot, files=files, _dumps_json=False)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """aiogram's check, with the response model held strongly so it is built once per type."""
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """POST the call as JSON, or hand uploads to aiogram's multipart path."""
        body = self.json_body(bot, method)
        if body is None or self.proxy is not None:
            return await super().make_request(bot, method, timeout)
        origin, path = self._target(bot, method)
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                status, raw = await self._client(origin).post(path, self.json_dumps(body).encode())
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except HTTPConnectionError as e:
            raise TelegramNetworkError(method=method, message=str(e)) from e
        response = self.check_response(bot=bot, method=method, status_code=status, content=raw.decode())
        return cast(TelegramType, response.result)
