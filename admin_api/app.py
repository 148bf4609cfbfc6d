"""The FastAPI application: health check, Telegram webhook and the officer API under /api/v1."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import Receive, Scope, Send

from admin_api.errors import install_error_handlers
from admin_api.routes import (
    attachments,
    audit,
    auth,
    campaigns,
    export,
    feedback,
    links,
    officers,
    pledges,
    stats,
    subscribers,
    tips,
)
from admin_api.routes.telegram import TelegramWebhook
from bot.context import AppContext


class TinBaoApp(FastAPI):
    """FastAPI, with the Telegram webhook answered in front of it (every citizen step is one such request)."""

    def __init__(self, webhook: TelegramWebhook, **settings: Any) -> None:
        super().__init__(**settings)
        self.webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The webhook path goes straight to its handler; everything else to FastAPI."""
        if self.webhook.handles(scope):
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(context: AppContext) -> FastAPI:
    """One ASGI app serving /healthz, the webhook and the officer API."""
    app = TinBaoApp(
        TelegramWebhook(context),
        title="TinBáo officer API",
        version="0.1.0",
        description="Triage citizens' tips inside your jurisdiction. No response ever carries a Telegram identity.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(officers.router)
    # Fixed paths (/tips/export.csv) before /tips/{tip_id}, which would otherwise capture them.
    app.include_router(export.router)
    app.include_router(stats.router)
    app.include_router(tips.router)
    app.include_router(attachments.router)
    app.include_router(audit.router)
    app.include_router(links.router)
    app.include_router(campaigns.router)
    app.include_router(subscribers.router)
    app.include_router(pledges.router)  # /pledges/coverage and /pledges/texts are fixed paths
    app.include_router(feedback.router)  # /feedback/stats before /feedback/{feedback_id}

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness plus a database round trip."""
        async with context.sessions() as session:
            await session.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
