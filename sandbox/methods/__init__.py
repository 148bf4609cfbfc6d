"""Bot API method handlers; importing this package registers them all."""

from __future__ import annotations

from sandbox.methods import bot, media, messages, updates
from sandbox.methods.registry import REGISTRY, MethodSpec


def find_method(name: str) -> MethodSpec | None:
    """The handler for a method name (case-insensitive), if the sandbox implements it."""
    return REGISTRY.get(name.lower())


__all__ = ["REGISTRY", "MethodSpec", "bot", "find_method", "media", "messages", "updates"]
