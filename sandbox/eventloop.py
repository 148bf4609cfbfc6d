"""Run a coroutine on uvloop where it is installed (a faster event loop), else on asyncio's own."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run with uvloop when available: HTTP-heavy services spend much of their time in the loop."""
    try:
        import uvloop
    except ImportError:  # Windows, or a minimal install: the standard loop works the same, only slower
        return asyncio.run(main)
    return uvloop.run(main)
