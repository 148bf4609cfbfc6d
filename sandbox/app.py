"""Assemble the sandbox aiohttp application."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from sandbox.botapi import STATE_KEY, add_botapi_routes, call_method
from sandbox.control import add_control_routes
from sandbox.state import TOKEN_RE, SandboxState
from sandbox.webhook import deliverer_factory

# Telegram accepts uploads up to 50 MB; leave room for multipart/base64 overhead.
MAX_BODY = 100 * 1024 * 1024


def create_state(tokens: Iterable[str] = ()) -> SandboxState:
    """A fresh state whose worlds deliver webhooks through the Bot API dispatcher."""
    state = SandboxState(runner_factory=deliverer_factory(call_method))
    for token in tokens:
        if not TOKEN_RE.match(token):
            raise ValueError("sandbox tokens must look like 123456:ABC... (20+ characters after the colon)")
        state.world(token)
    return state


def create_sandbox_app(state: SandboxState | None = None, tokens: Iterable[str] = ()) -> web.Application:
    """The sandbox application (Bot API + control API) over `state` (new if None)."""
    app = web.Application(client_max_size=MAX_BODY)
    app[STATE_KEY] = state if state is not None else create_state(tokens)

    async def on_shutdown(app: web.Application) -> None:
        await app[STATE_KEY].close()

    app.on_shutdown.append(on_shutdown)
    add_botapi_routes(app)
    add_control_routes(app)
    return app
