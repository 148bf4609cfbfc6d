"""Registry mapping Bot API method names (case-insensitive) to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.params import Params
from sandbox.state import World

Handler = Callable[[World, Params], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method: canonical name and handler."""

    name: str
    handler: Handler


REGISTRY: dict[str, MethodSpec] = {}


def api_method(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler under one or more Bot API method names."""

    def register(handler: Handler) -> Handler:
        for name in names:
            REGISTRY[name.lower()] = MethodSpec(name, handler)
        return handler

    return register
