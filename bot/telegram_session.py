"""aiogram's aiohttp session, made cheaper per call: JSON bodies and response models that stay built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiohttp import ClientError, ClientTimeout
from yarl import URL

if TYPE_CHECKING:
    from aiogram import Bot

JSON_HEADERS = {"Content-Type": "application/json"}


class TelegramSession(AiohttpSession):
    """Sends calls without files as JSON (Telegram accepts both) and keeps `Response[T]` models alive.

    aiogram builds a multipart form for every call; a JSON body is several times cheaper to build here and to
    parse on the other side. `Response[T]` is a pydantic generic whose cache holds it weakly: after a garbage
    collection the next call rebuilds its schema (about 7 ms of CPU, measured in the intake benchmark).
    """

    _response_types: ClassVar[dict[Any, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, str], URL] = {}

    def url(self, bot: Bot, method: TelegramMethod[TelegramType]) -> URL:
        """The method's URL, parsed once (aiohttp parses a string URL on every request)."""
        key = (bot.token, method.__api_method__)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = URL(self.api.api_url(token=bot.token, method=method.__api_method__))
        return found

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
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        try:
            async with session.post(
                self.url(bot, method),
                data=self.json_dumps(body),
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)
